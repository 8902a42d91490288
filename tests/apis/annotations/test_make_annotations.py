"""The annotation generator: splits, checks, safe outputs, real photos."""
import os
import os.path as osp
import shutil

import pytest
from conftest import REAL_DATA, load_tool, run_main
from PIL import Image

from custom_modules.datasets.annotations import (
    DatasetError,
    make_annotations,
    split_counts,
)
from custom_modules.datasets.annotations.write import write_text
from custom_modules.datasets.synthetic_flowers import CLASSES, make_dataset

main = load_tool('tools/dataset/make_annotations.py').main


@pytest.fixture(scope='module')
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp('tree') / 'flowers'
    make_dataset(str(root), per_class=20, size=24, seed=3)
    return str(root)


def read_lines(path):
    with open(path) as f:
        return [line.rstrip('\n').rsplit(' ', 1) for line in f]


def snapshot(root):
    """Every file under ``root`` with its size and mtime."""
    return {osp.join(d, f): (os.stat(osp.join(d, f)).st_size,
                             os.stat(osp.join(d, f)).st_mtime_ns)
            for d, _, files in os.walk(root) for f in files}


def run(src, out, **kwargs):
    kwargs.setdefault('workers', 1)
    return make_annotations(str(src), str(out), progress=False, **kwargs)


@pytest.mark.parametrize('split, expected', [
    ('8:2', {'train': 16, 'val': 4}),
    ('8:1:1', {'train': 16, 'val': 2, 'test': 2}),
])
def test_stratified_split_with_resolvable_lines(tree, tmp_path, split,
                                                expected):
    before = snapshot(tree)
    report = run(tree, tmp_path / 'out', split=split)
    out = tmp_path / 'out'
    assert (out / 'classes.txt').read_text().split() == sorted(CLASSES)
    assert report.counts == {c: expected for c in CLASSES}
    seen = set()
    for name, count in expected.items():
        lines = read_lines(out / f'{name}.txt')
        assert len(lines) == count * len(CLASSES)
        for path, label in lines:
            assert osp.isfile(out / path), path  # resolves under data_root
            assert CLASSES[int(label)] == path.split('/')[1]
        paths = {p for p, _ in lines}
        assert not paths & seen  # no image in two splits
        seen |= paths
    assert len(seen) == 20 * len(CLASSES)
    assert snapshot(tree) == before  # the source is only read
    if split == '8:2':
        assert not (out / 'test.txt').exists()


def test_same_seed_same_files_other_seed_other_files(tree, tmp_path):
    for name, seed in (('a', 0), ('b', 0), ('c', 1)):
        run(tree, tmp_path / name, seed=seed)
    text = {n: (tmp_path / n / 'val.txt').read_text() for n in 'abc'}
    assert text['a'] == text['b']
    assert text['a'] != text['c']


def test_split_counts_give_every_split_an_image():
    assert split_counts(10, (0.8, 0.2)) == [8, 2]
    assert split_counts(3, (0.8, 0.1, 0.1)) == [1, 1, 1]
    assert sum(split_counts(587, (0.8, 0.2))) == 587


@pytest.fixture
def messy(tmp_path):
    """A tree with one of each problem the tool checks for."""
    root = tmp_path / 'messy'
    make_dataset(str(root), per_class=8, size=24, seed=5)
    daisy, rose = root / 'daisy', root / 'rose'
    data = (daisy / 'daisy_0000.jpg').read_bytes()
    (daisy / 'truncated.jpg').write_bytes(data[:len(data) // 2])
    (daisy / 'notes.jpg').write_text('this is not a photo\n')
    (rose / 'daisy_copy.jpg').write_bytes(
        (daisy / 'daisy_0001.jpg').read_bytes())  # one photo, two labels
    shutil.copy(rose / 'rose_0002.jpg', rose / 'rose_0002_again.jpg')
    Image.open(rose / 'rose_0003.jpg').convert('L').save(rose / 'grey.jpg')
    Image.open(rose / 'rose_0004.jpg').convert('CMYK').save(rose / 'cmyk.jpg')
    Image.open(rose / 'rose_0005.jpg').convert('RGBA').save(rose / 'alpha.png')
    for f in (root / 'tulip').iterdir():
        f.unlink()  # an empty class
    return root


def test_problems_stop_the_run_and_nothing_is_written(messy, tmp_path):
    out = tmp_path / 'out'
    with pytest.raises(DatasetError) as err:
        run(messy, out)
    text = str(err.value)
    for expected in ('[corrupt] daisy/truncated.jpg',
                     '[not_image] daisy/notes.jpg',
                     '[label_conflict] rose/daisy_copy.jpg',
                     '[label_conflict] daisy/daisy_0001.jpg',
                     '[empty_class] tulip', 'Nothing was written',
                     '--on-problem exclude', 'fix:'):
        assert expected in text
    assert not out.exists() or not os.listdir(out)


def test_exclude_policy_leaves_problems_out_and_lists_them(messy, tmp_path):
    before = snapshot(messy)
    out = tmp_path / 'out'
    report = run(messy, out, on_problem='exclude')
    excluded = {(kind, path) for kind, path, _ in report.problems}
    assert excluded == {
        ('corrupt', 'daisy/truncated.jpg'), ('not_image', 'daisy/notes.jpg'),
        ('label_conflict', 'daisy/daisy_0001.jpg'),
        ('label_conflict', 'rose/daisy_copy.jpg'), ('empty_class', 'tulip')}
    assert (out / 'classes.txt').read_text().split() == [
        'daisy', 'dandelion', 'rose', 'sunflower']
    written = {p.split('/', 1)[1]: split for split in ('train', 'val')
               for p, _ in read_lines(out / f'{split}.txt')}
    assert not {p for _, p in excluded} & set(written)
    # Duplicates within a class stay, together in one split.
    assert written['rose/rose_0002.jpg'] == written['rose/rose_0002_again.jpg']
    notes = {(kind, path) for kind, path, _ in report.notes}
    assert {('mode', 'rose/grey.jpg'), ('mode', 'rose/cmyk.jpg'),
            ('mode', 'rose/alpha.png')} <= notes
    assert any(kind == 'duplicate' for kind, _ in notes)
    assert 'rose/grey.jpg' in written  # reported, still used
    assert snapshot(messy) == before


def test_too_few_images_for_the_split(tmp_path):
    root = tmp_path / 'few'
    make_dataset(str(root), per_class=3, size=24)
    for f in sorted((root / 'rose').iterdir())[1:]:
        f.unlink()
    with pytest.raises(DatasetError, match=r'\[too_few\] rose: 1 usable'):
        run(root, tmp_path / 'out')


def test_existing_files_need_force(tree, tmp_path):
    out = tmp_path / 'out'
    run(tree, out)
    first = (out / 'train.txt').read_text()
    with pytest.raises(DatasetError, match='--force'):
        run(tree, out, seed=9)
    assert (out / 'train.txt').read_text() == first
    run(tree, out, seed=9, force=True)
    assert (out / 'train.txt').read_text() != first


def test_output_inside_the_source_is_refused(tree):
    with pytest.raises(DatasetError, match='inside the source folder'):
        run(tree, osp.join(tree, 'annotations'))


@pytest.mark.parametrize('layout', ['symlink', 'copy'])
def test_materialised_imagenet_folders(tree, tmp_path, layout):
    out = tmp_path / layout
    run(tree, out, layout=layout)
    for split in ('train', 'val'):
        for path, _ in read_lines(out / f'{split}.txt'):
            assert path.startswith(f'{split}/')
            assert osp.isfile(out / path)
            assert osp.islink(out / path) == (layout == 'symlink')
    assert len(os.listdir(out / 'train' / 'daisy')) == 16


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / 'train.txt'
    target.write_text('old\n')

    with pytest.raises(TypeError):
        write_text(str(target), object())  # fails while writing
    assert target.read_text() == 'old\n'
    assert os.listdir(tmp_path) == ['train.txt']  # no temp file left


def test_cli_reports_and_exits_2_on_problems(messy, tmp_path, capsys):
    code, err = run_main(main, [str(messy), '--out-dir', str(tmp_path / 'o'),
                                '--quiet', '--workers', '1'], capsys)
    assert code == 2 and 'error:' in err
    assert main([str(messy), '--out-dir', str(tmp_path / 'o'), '--quiet',
                 '--workers', '2', '--on-problem', 'exclude']) == 0
    out = capsys.readouterr().out
    assert 'excluded (5)' in out and 'wrote:' in out


@pytest.mark.skipif(not osp.isdir(REAL_DATA),
                    reason=f'real flower photos not found at {REAL_DATA} '
                    '(set FLOWER_DATASET)')
def test_real_photos_load_in_mmpretrain(tmp_path):
    from mmpretrain.datasets import CustomDataset

    out = tmp_path / 'flower_dataset'
    report = run(REAL_DATA, out, on_problem='exclude', workers=2)
    assert report.classes == list(CLASSES)
    assert sum(report.found.values()) == 2848
    used = sum(sum(c.values()) for c in report.counts.values())
    assert used == 2848 - len(report.problems)
    for split in ('train', 'val'):
        dataset = CustomDataset(
            data_root=str(out), ann_file=f'{split}.txt',
            classes=str(out / 'classes.txt'))
        assert len(dataset) == sum(c[split] for c in report.counts.values())
        assert dataset.CLASSES == CLASSES
        assert osp.isfile(dataset.get_data_info(0)['img_path'])
    ratio = sum(c['val'] for c in report.counts.values()) / used
    assert ratio == pytest.approx(0.2, abs=0.005)
