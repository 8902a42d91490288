"""tools/analysis/make_report.py on a run trained with tools/train.py:
the page from what the run holds, the missing parts named with the command
that makes each, then the test accuracy once tools/test.py --out ran."""
import base64
import glob
import io
import json
import os
import os.path as osp
import re
import tempfile

import pytest
from conftest import ROOT, TINY_CONFIG, load_tool, run_main, run_runner
from html_pages import assert_self_contained
from PIL import Image

from custom_modules.datasets.annotations import make_annotations
from custom_modules.evaluation.predictions import load_predictions

TRAIN = load_tool('tools/train.py')
TEST = load_tool('tools/test.py')
report_main = load_tool('tools/analysis/make_report.py').main


@pytest.fixture(scope='module')
def trained_run(synthetic_root, tmp_path_factory):
    """The ResNet-18 stand-in on an 8:1:1 split."""
    root = str(tmp_path_factory.mktemp('split') / 'flowers')
    make_annotations(synthetic_root, root, split='8:1:1', workers=1,
                     progress=False)
    run_dir = str(tmp_path_factory.mktemp('run') / 'run')
    run_runner(TRAIN.main, [TINY_CONFIG, '--from-scratch', '--data-root',
                               root, '--work-dir', run_dir])
    return run_dir, root


def best_val_accuracy(run_dir):
    """Straight from the logged scalars, not through the report's code."""
    (path,) = glob.glob(osp.join(run_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        return max(entry['accuracy/top1'] for entry in map(json.loads, f)
                   if 'accuracy/top1' in entry)


def test_report_builds_what_it_can_then_adds_the_test_split(
        trained_run, capsys):
    run_dir, root = trained_run
    page = osp.join(run_dir, 'report.html')
    assert report_main([run_dir]) == 0
    out = capsys.readouterr().out
    assert f'wrote {page}' in out
    (checkpoint,) = glob.glob(osp.join(run_dir, 'best_*.pth'))
    assert 'missing: No test predictions' in out
    assert (f'make it with: python tools/test.py {run_dir}/{osp.basename(TINY_CONFIG)}'
            f' {checkpoint} --out {run_dir}/test_predictions.json') in out
    assert 'missing: Not calibrated\n    make it with: python tools/' \
        'analysis/calibrate.py' in out
    text = open(page).read()
    assert_self_contained(text)
    assert f'{best_val_accuracy(run_dir):.2f} %' in text
    with open(osp.join(root, 'test.txt')) as f:
        test_images = len(f.read().splitlines())
    assert '<th>test</th>' in text and f'<td>{test_images}</td>' in text

    code, err = run_main(report_main, [run_dir], capsys)  # never replaced
    assert code == 2 and 'report.html exists; pass --force' in err

    assert 'Class activation maps not drawn' in text
    assert ('missing: Class activation maps not drawn\n    make it with: '
            'python tools/visualization/vis_cam.py') in out
    # Class activation maps, where the analysis drew them, are embedded.
    cams = Image.new('RGB', (300, 200), 'orange')
    os.makedirs(osp.join(run_dir, 'analysis'))
    cams.save(osp.join(run_dir, 'analysis', 'cams.png'))

    preds = osp.join(run_dir, 'test_predictions.json')
    run_runner(TEST.main, [TINY_CONFIG, checkpoint, '--data-root', root,
                              '--out', preds, '--work-dir',
                              osp.join(run_dir, 'test')])
    assert report_main([run_dir, '--force']) == 0
    out = capsys.readouterr().out
    assert 'No test predictions' not in out
    scores, labels, _ = load_predictions(preds)
    accuracy = 100 * float((scores.argmax(1) == labels).float().mean())
    text = open(page).read()
    assert (f'<b>{accuracy:.2f} %</b>test accuracy (best checkpoint, '
            f'{test_images} images)') in text
    (uri,) = re.findall(r'src="data:image/png;base64,([^"]+)" alt="CAMs"',
                        text)
    with Image.open(io.BytesIO(base64.b64decode(uri))) as shown:
        assert shown.size == (300, 200)
    assert 'Class activation maps not drawn' not in text
    # Before: the run folder, the checkpoint and the config's data_root and
    # work_dir as this machine's absolute paths; no summary; no test ECE.
    for path in (run_dir, root, ROOT, tempfile.gettempdir()):
        assert osp.abspath(path) + '/' not in text, path
    assert re.search(r'<p class="lead">ResNet-18 trained 2 epoch\(s\); its '
                     r'best epoch \(\d\) reached [\d.]+ % on val and '
                     rf'{accuracy:.2f} % on the {test_images} test images '
                     r'\(ECE [\d.]+ %\)\.</p>', text)
    assert 'test ECE (15 bins)</div>' in text
    assert '<code>best_' in text  # the checkpoint, relative to the run


def test_a_folder_that_is_no_run_is_refused(tmp_path, capsys):
    code, err = run_main(report_main, [str(tmp_path)], capsys)
    assert code == 2 and 'not a work dir of tools/train.py' in err
    code, err = run_main(report_main, [str(tmp_path / 'nope')], capsys)
    assert code == 2 and 'is not a folder' in err


def test_page_images_are_kept_small():
    """A wide photo is scaled to MAX_IMAGE_WIDTH and sent as JPEG; a plot
    (few flat colours) stays an exact PNG."""
    import numpy as np

    from custom_modules.utils.html_page import MAX_IMAGE_WIDTH, page_image_uri
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 255, (900, 2400, 3), np.uint8))
    plot = Image.new('RGB', (2400, 900), 'white')
    for image, kind in ((photo, 'jpeg'), (plot, 'png')):
        buffer = io.BytesIO()
        image.save(buffer, format='PNG')
        head, _, data = page_image_uri(buffer.getvalue()).partition(',')
        assert head == f'data:image/{kind};base64'
        with Image.open(io.BytesIO(base64.b64decode(data))) as shown:
            assert shown.width == MAX_IMAGE_WIDTH


def test_paths_in_the_home_folder_start_with_a_tilde(tmp_path, monkeypatch):
    """Before: torch's weights cache showed as ``../../../root/.cache/...``
    on the photos demo's page (a run outside the home folder)."""
    from custom_modules.apis.run_report import relative_paths
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    text = relative_paths(f"'{tmp_path}/home/.cache/w.pth' {tmp_path}/runs/"
                          'data', str(tmp_path / 'runs' / 'run'))
    assert text == "'~/.cache/w.pth' ../data"


def test_robustness_section_from_the_benchmark_in_the_run(trained_run,
                                                          capsys):
    """No benchmark: named with its command; then robustness.py's
    results.md (its table and summary) and plot are shown."""
    run_dir, _ = trained_run
    page = osp.join(run_dir, 'report.html')
    assert report_main([run_dir, '--force']) == 0
    assert 'missing: No shift benchmark\n    make it with: python tools/' \
        'analysis/robustness.py' in capsys.readouterr().out
    folder = osp.join(run_dir, 'robustness')
    os.makedirs(folder)
    with open(osp.join(folder, 'results.md'), 'w') as f:
        f.write('# Robustness of best.pth\n\n| shift | severity | accuracy %'
                ' |\n|---|---|---|\n| clean | - | 91.5 |\n| low_res | 5 | '
                '42.0 |\n\nmean corrupted accuracy: 42.0 %\n')
    Image.new('RGB', (80, 60), 'teal').save(
        osp.join(folder, 'accuracy_vs_severity.png'))
    assert report_main([run_dir, '--force']) == 0
    text = open(page).read()
    section = text[text.index('<h2>Robustness under shift</h2>'):]
    assert '<td>low_res</td>' in section and '42.0 %' in section
    assert 'alt="accuracy under shift"' in section
    assert 'No shift benchmark' not in text
