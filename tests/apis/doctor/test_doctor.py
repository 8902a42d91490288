"""The dataset doctor on generated photos with planted faults: resized,
grayscale and recoloured copies are grouped and kept in one split, swapped
labels top the suspects, a non-flower photo tops the outliers, the review
page renders, and a decisions file changes the annotation files."""
import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
from conftest import REAL_DATA, load_tool
from html_pages import assert_self_contained, browser  # noqa: F401
from PIL import Image, ImageOps

from custom_modules.apis.doctor import run_doctor
from custom_modules.datasets.annotations import DatasetError, make_annotations
from custom_modules.datasets.near_duplicates import near_duplicate_groups, phash
from custom_modules.datasets.synthetic_flowers import make_dataset

COPIES = ('daisy/copy_small.jpg', 'daisy/copy_gray.jpg',
          'daisy/copy_recoloured.jpg')
SWAPPED = ('daisy/rose_0001.jpg', 'rose/daisy_0001.jpg')
OUTLIER = 'sunflower/camera.jpg'


def stand_in_model():
    """Tiny features instead of Lite0: colour on a coarse grid, centred."""
    return torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(8),
                               torch.nn.Flatten(), torch.nn.LayerNorm(
                                   192, elementwise_affine=False))


@pytest.fixture(scope='module')
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp('doctor') / 'flowers'
    make_dataset(str(root), per_class=20, size=64, seed=5)
    original = Image.open(root / 'daisy' / 'daisy_0000.jpg').convert('RGB')
    original.resize((40, 40)).save(root / COPIES[0])
    ImageOps.grayscale(original).save(root / COPIES[1])
    r, g, b = original.split()
    Image.merge('RGB', (b, r, g)).save(root / COPIES[2])
    for moved in SWAPPED:  # each file goes to the other class's folder
        name = osp.basename(moved)
        shutil.move(root / name.split('_')[0] / name, root / moved)
    skimage_data = pytest.importorskip('skimage.data')
    Image.fromarray(skimage_data.camera()).resize((64, 64)).save(
        root / OUTLIER)
    out = tmp_path_factory.mktemp('doctor_out')
    report = run_doctor(str(root), str(out), model=stand_in_model(), size=64,
                        top=5, folds=5, progress=False)
    return root, out, report


def test_planted_faults_rank_on_top(planted):
    _, out, report = planted
    assert report == json.loads((out / 'report.json').read_text())
    daisy = next(g for g in report['groups'] if COPIES[0] in g['files'])
    assert set(daisy['files']) == {'daisy/daisy_0000.jpg', *COPIES}
    assert not daisy['label_conflict']
    suspects = [s['path'] for s in report['label_suspects']]
    # the swapped pair on top, with the non-flower photo (no class fits it)
    assert set(suspects[:3]) == {*SWAPPED, OUTLIER}, suspects[:5]
    for s in report['label_suspects'][:3]:
        assert s['suggested'] != s['given']
        if s['path'] == SWAPPED[1]:  # a daisy among roses: unmistakable
            assert s['suggested'] == 'daisy'
    assert report['outliers'][0]['path'] == OUTLIER, report['outliers'][:3]
    assert report['imbalance'] == pytest.approx(23 / 20)  # 20 + 3 copies


def test_review_page_and_decisions_template(planted, browser):  # noqa: F811
    _, out, report = planted
    page = (out / 'review.html').read_text()
    assert_self_contained(page)
    for path in (*COPIES, *SWAPPED, OUTLIER):
        assert path in page
    decisions = (out / 'decisions.txt').read_text()
    assert 'group ' + ' '.join(
        next(g for g in report['groups'] if COPIES[0] in g['files'])[
            'files']) in decisions
    assert f'# relabel {SWAPPED[1]} daisy' in decisions
    browser.get((out / 'review.html').as_uri())
    images = browser.find_elements('css selector', 'img')
    assert len(images) >= 4 and all(browser.execute_script(
        'return arguments[0].naturalWidth', i) > 0 for i in images)


def lines_of(out):
    return {split: dict(line.rsplit(' ', 1) for line in (
        out / f'{split}.txt').read_text().splitlines())
        for split in ('train', 'val')}


def test_decisions_change_the_annotation_files(planted, tmp_path):
    root, out, report = planted
    decisions = tmp_path / 'decisions.txt'
    group = next(g for g in report['groups'] if COPIES[0] in g['files'])
    decisions.write_text('group ' + ' '.join(group['files']) + '\n'
                         f'exclude {OUTLIER}\n'
                         f'relabel {SWAPPED[0]} rose\n')
    before = sorted(os.walk(root))
    for seed in range(4):  # the group shares a split whatever the seed
        written = tmp_path / f'out{seed}'
        make_annotations(str(root), str(written), seed=seed, workers=1,
                         progress=False, decisions=str(decisions))
        lines = lines_of(written)
        where = {p.split('/', 1)[1]: (s, label) for s, ls in lines.items()
                 for p, label in ls.items()}
        assert OUTLIER not in where
        assert len({where[p][0] for p in ('daisy/daisy_0000.jpg',
                                          *COPIES)}) == 1
        classes = (written / 'classes.txt').read_text().split()
        assert classes[int(where[SWAPPED[0]][1])] == 'rose'
        assert classes[int(where[SWAPPED[1]][1])] == 'rose'  # not decided
        assert classes[int(where['daisy/daisy_0002.jpg'][1])] == 'daisy'
    assert sorted(os.walk(root)) == before  # the photo folder is untouched


@pytest.mark.parametrize('line, named', [
    ('exclude daisy/nope.jpg', "unknown file 'daisy/nope.jpg'"),
    ('relabel daisy/daisy_0002.jpg lily', "unknown class 'lily'"),
    ('remove daisy/daisy_0002.jpg', "unknown decision 'remove'"),
    ('relabel daisy/daisy_0002.jpg', 'relabel takes 2 argument'),
])
def test_a_bad_decisions_line_is_named(planted, tmp_path, line, named):
    root = planted[0]
    decisions = tmp_path / 'decisions.txt'
    decisions.write_text(f'# header\nexclude {OUTLIER}\n\n{line}\n')
    with pytest.raises(DatasetError, match='line 4: ' + named):
        make_annotations(str(root), str(tmp_path / 'out'), workers=1,
                         progress=False, decisions=str(decisions))
    assert not (tmp_path / 'out' / 'train.txt').exists()


def test_a_group_across_classes_is_a_label_conflict(planted, tmp_path):
    root = planted[0]
    decisions = tmp_path / 'decisions.txt'
    decisions.write_text('group daisy/daisy_0002.jpg rose/rose_0002.jpg\n')
    with pytest.raises(DatasetError, match='label_conflict'):
        make_annotations(str(root), str(tmp_path / 'out'), workers=1,
                         progress=False, decisions=str(decisions))


def test_the_tool_prints_progress_and_the_next_step(planted, tmp_path,
                                                     monkeypatch, capsys):
    import custom_modules.apis.doctor as doctor
    monkeypatch.setattr(doctor, 'build_feature_model', stand_in_model)
    main = load_tool('tools/dataset/doctor.py').main
    assert main([str(planted[0]), '--out', str(tmp_path), '--top', '3',
                 '--size', '64']) == 0
    out, err = capsys.readouterr()
    assert 'features: 104/104 (100%)' in err and 'hashing: 104/104' in err
    assert f'--decisions {tmp_path}/decisions.txt' in out
    assert sorted(os.listdir(tmp_path)) == [
        'decisions.txt', 'report.json', 'review.html']


def test_make_annotations_takes_decisions_and_points_to_the_doctor(
        planted, tmp_path, capsys):
    decisions = tmp_path / 'decisions.txt'
    decisions.write_text(f'exclude {OUTLIER}\n')
    main = load_tool('tools/dataset/make_annotations.py').main
    assert main([str(planted[0]), '--out-dir', str(tmp_path / 'out'),
                 '--decisions', str(decisions), '--workers', '1',
                 '--quiet']) == 0
    assert 'tools/dataset/doctor.py' in capsys.readouterr().out
    assert OUTLIER not in ''.join(
        (tmp_path / 'out' / f'{s}.txt').read_text() for s in ('train', 'val'))


@pytest.mark.parametrize('pair', [
    ('daisy/33885735373_444ba02d9c_n.jpg',  # black-and-white and colour
     'daisy/34310869690_56cdc84a17_n.jpg'),
    ('dandelion/506659320_6fac46551e.jpg',  # colours shifted
     'dandelion/506660896_c903cca1f0.jpg'),
])
def test_the_real_pairs_are_one_picture_by_hash_alone(pair):
    paths = [osp.join(REAL_DATA, p) for p in pair]
    if not all(map(osp.isfile, paths)):
        pytest.skip(f'real flower photos not found at {REAL_DATA}')
    groups = near_duplicate_groups(list(pair), ['x', 'x'],
                                   np.stack([phash(p) for p in paths]))
    assert [g['files'] for g in groups] == [list(pair)]
