"""A finished run folder is data, never code (issue 20 #1), and nothing
derived from an earlier checkpoint outlives it (#2): train.py saves the
resolved config as config.json and the report, the grid's tabulation and
the precision reading use that; --force removes every file the earlier run
wrote; calibration and test predictions name the checkpoint they came from
and are ignored for another one."""
import glob
import hashlib
import json
import os
import os.path as osp
import shutil

import pytest
from conftest import TINY_CONFIG, load_tool, run_runner

from custom_modules.apis.run_logs import best_checkpoint, summarize_run
from custom_modules.apis.training import prepare_work_dir
from custom_modules.evaluation.calibration import read_calibration

TRAIN = load_tool('tools/train.py')
TEST = load_tool('tools/test.py')
CALIBRATE = load_tool('tools/analysis/calibrate.py')
report_main = load_tool('tools/analysis/make_report.py').main
infer_main = load_tool('tools/infer.py').main


@pytest.fixture(scope='module')
def trained_run(annotated_root, tmp_path_factory):
    run_dir = str(tmp_path_factory.mktemp('run') / 'run')
    run_runner(TRAIN.main, [TINY_CONFIG, '--from-scratch', '--data-root',
                            annotated_root, '--work-dir', run_dir])
    return run_dir


def plant_code(run_dir, marker):
    """Append code that creates ``marker`` to every .py the run saved."""
    saved = glob.glob(osp.join(run_dir, '*.py')) + glob.glob(
        osp.join(run_dir, '*', 'vis_data', 'config.py'))
    assert len(saved) >= 2
    for path in saved:
        with open(path, 'a') as f:
            f.write(f'\n_x = __import__("os").system("touch {marker}")\n')


def test_training_saves_the_config_as_data(trained_run, annotated_root):
    with open(osp.join(trained_run, 'config.json')) as f:
        data = json.load(f)
    assert data['train_dataloader']['dataset']['data_root'] == annotated_root
    (saved,) = glob.glob(osp.join(trained_run, '*', 'vis_data',
                                  'config.json'))
    with open(saved) as f:
        assert json.load(f) == data


def test_report_and_tabulation_never_run_the_run_folders_code(
        trained_run, tmp_path, capsys):
    run_dir = str(tmp_path / 'received')
    shutil.copytree(trained_run, run_dir)
    marker = str(tmp_path / 'MARKER')
    plant_code(run_dir, marker)
    assert report_main([run_dir]) == 0
    summary = summarize_run(run_dir)  # what the grid tabulates
    assert not osp.exists(marker)
    assert summary['precision'] == 'fp32' and summary['batch_size'] > 0
    text = open(osp.join(run_dir, 'report.html')).read()
    assert 'learning-rate schedule' in text
    assert 'No config.json' not in capsys.readouterr().out


def test_an_older_run_without_config_json_shows_less(trained_run, tmp_path,
                                                     capsys):
    run_dir = str(tmp_path / 'old')
    shutil.copytree(trained_run, run_dir)
    for path in glob.glob(osp.join(run_dir, '**', 'config.json'),
                          recursive=True):
        os.remove(path)
    marker = str(tmp_path / 'MARKER')
    plant_code(run_dir, marker)
    assert report_main([run_dir]) == 0
    assert not osp.exists(marker)
    assert 'missing: No config.json in the run' in capsys.readouterr().out
    summary = summarize_run(run_dir)
    assert summary['precision'] is None and summary['val_acc'] >= 0


def test_force_removes_what_the_earlier_run_and_its_tools_wrote(tmp_path):
    work_dir = tmp_path / 'run'
    (work_dir / '20260101_000000' / 'vis_data').mkdir(parents=True)
    old = ['last_checkpoint', 'best_accuracy_top1_epoch_1.pth',
           'best_accuracy_top1_epoch_1.pth.calibration.json',
           'test_predictions.json', 'val_predictions.json', 'config.json',
           'report.html', 'grid_test.log']
    for name in old:
        (work_dir / name).write_text('x')
    for folder in ('analysis', 'calibration', 'test'):
        (work_dir / folder).mkdir()
        (work_dir / folder / 'f.png').write_text('x')
    (work_dir / 'my_notes.txt').write_text('kept')
    prepare_work_dir(str(work_dir), force=True)
    assert sorted(os.listdir(work_dir)) == ['my_notes.txt']


def test_derived_files_of_another_checkpoint_are_ignored(
        trained_run, annotated_root, tiny_checkpoint, tmp_path, capsys):
    """What --force used to leave: calibration and test predictions of an
    earlier best checkpoint with the same file name as the new one."""
    run_dir = str(tmp_path / 'run')
    shutil.copytree(trained_run, run_dir)
    best = best_checkpoint(run_dir)
    common = ['--data-root', annotated_root]
    run_runner(CALIBRATE.main, [TINY_CONFIG, best, '--work-dir',
                                osp.join(run_dir, 'calibration'), *common])
    preds = osp.join(run_dir, 'test_predictions.json')
    run_runner(TEST.main, [TINY_CONFIG, best, '--out', preds, '--work-dir',
                           osp.join(run_dir, 'test'), *common])
    with open(best, 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    with open(best + '.calibration.json') as f:
        assert json.load(f)['checkpoint_sha256'] == sha
    with open(preds) as f:
        assert json.load(f)['checkpoint_sha256'] == sha
    assert read_calibration(best)['temperature'] > 0
    assert report_main([run_dir]) == 0
    text = open(osp.join(run_dir, 'report.html')).read()
    assert 'test accuracy (best checkpoint' in text
    capsys.readouterr()

    shutil.copyfile(tiny_checkpoint, best)  # a new run's best, same name
    assert read_calibration(best) is None
    assert 'made from another checkpoint' in capsys.readouterr().err
    assert report_main([run_dir, '--force']) == 0
    out = capsys.readouterr().out
    text = open(osp.join(run_dir, 'report.html')).read()
    assert 'test accuracy (best checkpoint' not in text
    assert 'missing: Not calibrated' in out
    assert 'missing: No test predictions' in out
    image = glob.glob(osp.join(annotated_root, 'images', '*', '*'))[0]
    infer_main([TINY_CONFIG, best, image])
    captured = capsys.readouterr()
    assert 'calibration: temperature' not in captured.out
    assert 'made from another checkpoint' in captured.err
