"""The untouched test split, calibration, the reject option and
``tools/test.py --data-folder``, through the tools' own entry points."""
import glob
import json
import os.path as osp
import shutil

import pytest
from conftest import TINY_CONFIG, load_tool, run_main, run_runner

from custom_modules.datasets.annotations import make_annotations

TRAIN = load_tool('tools/train.py')
TEST = load_tool('tools/test.py')
INFER = load_tool('tools/infer.py')
calibrate = load_tool('tools/analysis/calibrate.py')


@pytest.fixture(scope='module')
def split_root(synthetic_root, tmp_path_factory):
    """Train, val and test files (8:1:1) for the synthetic photos."""
    out = str(tmp_path_factory.mktemp('split') / 'flowers')
    make_annotations(synthetic_root, out, split='8:1:1', workers=1,
                     progress=False)
    return out


@pytest.fixture(scope='module')
def checkpoint(split_root, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('run') / 'run')
    run_runner(TRAIN.main, [TINY_CONFIG, '--from-scratch', '--data-root',
                               split_root, '--work-dir', work_dir])
    return glob.glob(osp.join(work_dir, 'best_*.pth'))[0]


def test_test_reads_test_txt_and_falls_back_to_val_saying_so(
        checkpoint, split_root, annotated_root, tmp_path, capsys):
    run_runner(TEST.main, [TINY_CONFIG, checkpoint, '--data-root',
                              split_root, '--work-dir', str(tmp_path / 'a')])
    out = capsys.readouterr().out
    assert f'tested on {osp.join(split_root, "test.txt")}' in out
    assert 'note:' not in out
    # annotated_root was written with the default 8:2 split: no test.txt.
    run_runner(TEST.main, [TINY_CONFIG, checkpoint, '--data-root',
                              annotated_root, '--work-dir',
                              str(tmp_path / 'b')])
    out = capsys.readouterr().out
    assert (f'note: {osp.join(annotated_root, "test.txt")} does not exist, '
            f'so this tests on {osp.join(annotated_root, "val.txt")}') in out
    assert '--split 8:1:1' in out


def test_calibration_is_stored_and_applied_by_test_and_infer(
        checkpoint, split_root, synthetic_root, tmp_path, capsys):
    calibrate.main([TINY_CONFIG, checkpoint, '--data-root', split_root,
                    '--work-dir', str(tmp_path / 'cal')])
    with open(checkpoint + '.calibration.json') as f:
        stored = json.load(f)
    assert stored['temperature'] > 0
    assert stored['score'] == 'energy'  # the default reject score
    assert stored['val']['coverage'] >= 95
    assert stored['val']['after']['nll'] <= stored['val']['before']['nll']
    assert stored['out_of_distribution']['photos'] >= 10
    assert (tmp_path / 'cal' / 'reliability_val.png').is_file()
    code, err = run_main(calibrate.main, [TINY_CONFIG, checkpoint,
                                          '--data-root', split_root], capsys)
    assert code == 2 and '--force' in err  # never replaced silently

    metrics = run_runner(TEST.main, [
        TINY_CONFIG, checkpoint, '--data-root', split_root, '--work-dir',
        str(tmp_path / 'test')])
    assert metrics['calibration/temperature'] == pytest.approx(
        stored['temperature'], rel=1e-4)
    assert {'calibration/ece', 'calibration/ece_scaled',
            'calibration/coverage'} <= set(metrics)
    assert 'after temperature scaling' in capsys.readouterr().out
    assert glob.glob(str(tmp_path / 'test' / '*' / 'vis_data' /
                         'risk_coverage_test.png'))

    rose = osp.join(synthetic_root, 'rose')
    results = INFER.main([TINY_CONFIG, checkpoint, rose])
    assert {r['reject_score'] for r in results} == {'energy'}
    assert [r['unknown'] for r in results] == [
        r['reject_value'] < stored['threshold'] for r in results]
    results = INFER.main([TINY_CONFIG, checkpoint, rose,
                          '--threshold', '1000'])  # energy: not [0, 1]
    assert results and all(r['unknown'] for r in results)
    results = INFER.main([TINY_CONFIG, checkpoint, rose,
                              '--no-calibration'])
    assert not any(r['unknown'] for r in results)


def test_data_folder_refuses_other_classes_naming_them(
        checkpoint, synthetic_root, tmp_path, capsys):
    folder = tmp_path / 'other'
    for name in ('daisy', 'rose'):
        shutil.copytree(osp.join(synthetic_root, name), folder / name)
    shutil.copytree(osp.join(synthetic_root, 'tulip'), folder / 'lily')
    code, err = run_main(TEST.main, [
        TINY_CONFIG, checkpoint, '--data-folder', str(folder),
        '--work-dir', str(tmp_path / 'w')], capsys)
    assert code == 2
    assert 'missing (no folder): dandelion, sunflower, tulip' in err
    assert 'unknown to the model: lily' in err
    assert not (tmp_path / 'w' / 'data_folder' / 'other' /
                'test.txt').exists()


def test_data_folder_evaluates_every_photo(checkpoint, synthetic_root,
                                           tmp_path, capsys):
    metrics = run_runner(TEST.main, [
        TINY_CONFIG, checkpoint, '--data-folder', synthetic_root,
        '--work-dir', str(tmp_path / 'w'), '--no-calibration'])
    out = capsys.readouterr().out
    assert 'calibration/ece' in metrics
    assert '| macro avg |' in out and '| 100 |' in out  # all 100 photos
    assert 'confusion matrix (rows: true class' in out
    annotations = tmp_path / 'w' / 'data_folder' / 'flowers'
    assert len((annotations / 'test.txt').read_text().splitlines()) == 100
    assert (annotations / 'analysis' / 'confusion_matrix.png').is_file()
