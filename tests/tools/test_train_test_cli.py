"""Train, resume and test through the real command-line tools.

A ResNet-18 stand-in of the demo config keeps this to seconds; the configs'
own models are covered in tests/configs.
"""
import glob
import json
import os
import os.path as osp
import shutil

import pytest
import torch
from conftest import TINY_CONFIG, load_tool, run_log, run_main, run_runner, run_tool

from custom_modules.apis.run_logs import log_folders, read_log_entries
from custom_modules.engine.hooks.train_accuracy_hook import stratified_subset
from custom_modules.utils.errors import UserInputError

TRAIN = load_tool('tools/train.py')
TEST = load_tool('tools/test.py')
ANALYZE = load_tool('tools/analysis/analyze_predictions.py')

CONFIG = TINY_CONFIG


def lr_by_step(work_dir):
    """Learning rates the LoggerHook recorded, keyed by iteration."""
    rates = {}
    for path in glob.glob(osp.join(work_dir, '*', 'vis_data',
                                   'scalars.json')):
        with open(path) as f:
            for line in f:
                entry = json.loads(line)
                if 'lr' in entry:
                    rates[entry['step']] = entry['lr']
    return rates


def train(annotated_root, work_dir, *extra):
    """tools/train.py in-process; returns the run's log text."""
    run_runner(TRAIN.main, [
        CONFIG, '--from-scratch', '--data-root', annotated_root,
        '--work-dir', work_dir, *extra, '--cfg-options',
        'default_hooks.logger.interval=1'])
    return run_log(work_dir)


@pytest.fixture(scope='module')
def trained(annotated_root, tmp_path_factory):
    """One run through the real command line, as a user starts it."""
    work_dir = str(tmp_path_factory.mktemp('train') / 'run')
    run_tool('tools/train.py', CONFIG, '--from-scratch', '--data-root',
             annotated_root, '--work-dir', work_dir, '--cfg-options',
             'default_hooks.logger.interval=1')
    return work_dir


def test_training_writes_checkpoints_that_load_weights_only(trained):
    for name in ('epoch_1.pth', 'epoch_2.pth'):
        checkpoint = torch.load(osp.join(trained, name), weights_only=True)
        assert checkpoint['meta']['epoch'] == int(name[6])
        assert 'message_hub' in checkpoint and 'param_schedulers' in checkpoint


def test_resume_from_a_checkpoint_continues_the_same_schedule(
        trained, annotated_root, tmp_path):
    work_dir = str(tmp_path / 'resumed')
    log = train(annotated_root, work_dir, '--resume',
                osp.join(trained, 'epoch_1.pth'))
    assert 'resumed epoch: 1' in log
    full, resumed = lr_by_step(trained), lr_by_step(work_dir)
    assert resumed and min(resumed) > min(full)  # only epoch 2 was trained
    assert resumed == pytest.approx({s: full[s] for s in resumed}, rel=1e-9)
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))


def test_resume_without_path_picks_the_last_checkpoint(
        trained, annotated_root, tmp_path):
    """An interrupted run (epoch 2 lost) resumes from epoch 1."""
    work_dir = str(tmp_path / 'interrupted')
    shutil.copytree(trained, work_dir)
    os.remove(osp.join(work_dir, 'epoch_2.pth'))
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work_dir, 'epoch_1.pth'))
    log = train(annotated_root, work_dir, '--resume')
    assert log.count('resumed epoch: 1') == 1
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))


def test_existing_run_is_not_overwritten(trained, annotated_root, capsys):
    before = os.path.getmtime(osp.join(trained, 'epoch_2.pth'))
    code, err = run_main(TRAIN.main, [
        CONFIG, '--from-scratch', '--data-root', annotated_root,
        '--work-dir', trained], capsys)
    assert code == 2
    assert 'already holds a run' in err and '--resume' in err
    assert os.path.getmtime(osp.join(trained, 'epoch_2.pth')) == before


def test_force_starts_a_clean_run(trained, annotated_root, tmp_path):
    """--force must not leave the old run's logs or best checkpoint to mix
    into the new run's curves and results."""
    work_dir = str(tmp_path / 'forced')
    shutil.copytree(trained, work_dir)
    old_folders = log_folders(work_dir)
    # A stale best from the old run, at an epoch the new run never reaches.
    shutil.copy(osp.join(work_dir, 'epoch_1.pth'),
                osp.join(work_dir, 'best_accuracy_top1_epoch_9.pth'))
    old_log = {e['step'] for e in read_log_entries(work_dir)[0]}
    train(annotated_root, work_dir, '--force')
    new_folders = log_folders(work_dir)
    assert len(new_folders) == 1 and new_folders[0] not in old_folders
    assert {e['step'] for e in read_log_entries(work_dir)[0]} == old_log
    assert not osp.exists(osp.join(work_dir,
                                   'best_accuracy_top1_epoch_9.pth'))


def test_train_accuracy_hook_matches_the_test_tool(trained, annotated_root,
                                                   tmp_path):
    """The logged train accuracy of an epoch is what tools/test.py measures
    with that epoch's checkpoint on the hook's subset of the training split:
    by default as many images as val, drawn with the run's seed (42)."""
    _, val = read_log_entries(trained)
    with open(osp.join(annotated_root, 'train.txt')) as f:
        lines = f.readlines()
    with open(osp.join(annotated_root, 'val.txt')) as f:
        size = len(f.readlines())
    subset = stratified_subset([int(line.split()[-1]) for line in lines],
                               size, seed=42)
    subset_file = tmp_path / 'subset.txt'
    subset_file.write_text(''.join(lines[i] for i in subset))
    metrics = run_runner(TEST.main, [
        CONFIG, osp.join(trained, 'epoch_2.pth'), '--data-root',
        annotated_root, '--work-dir', str(tmp_path / 'test'),
        '--cfg-options', f'test_dataloader.dataset.ann_file={subset_file}'])
    assert val[2]['train_images'] == size < len(lines)
    assert val[2]['train_accuracy/top1'] == pytest.approx(
        metrics['accuracy/top1'], abs=1e-9)


def test_test_tool_reports_accuracy_and_dumps_predictions(
        trained, annotated_root, tmp_path, capsys):
    out = str(tmp_path / 'preds.json')
    capsys.readouterr()
    run_runner(TEST.main, [
        CONFIG, osp.join(trained, 'epoch_2.pth'), '--data-root',
        annotated_root, '--work-dir', str(tmp_path / 'test'), '--out', out,
        '--tta'])
    printed = capsys.readouterr()
    assert 'accuracy/top1' in printed.out + printed.err
    with open(out) as f:  # JSON: reading it cannot run code
        predictions = json.load(f)['samples']
    with open(osp.join(annotated_root, 'val.txt')) as f:
        assert len(predictions) == len(f.readlines())
    assert len(predictions[0]['pred_score']) == 5
    # The analysis reads it.
    assert ANALYZE.main([out, '--classes', osp.join(annotated_root,
                                                    'classes.txt'),
                         '--out-dir', str(tmp_path / 'analysis')]) == 0
    assert 'Top-1 accuracy' in capsys.readouterr().out
    assert osp.isfile(tmp_path / 'analysis' / 'confusion_matrix.png')
    # A second --out to the same file is refused.
    code, err = run_main(TEST.main, [
        CONFIG, osp.join(trained, 'epoch_2.pth'), '--data-root',
        annotated_root, '--out', out], capsys)
    assert code == 2 and '--force' in err


@pytest.mark.parametrize('args, message', [
    (['configs/resnet101_freeze2_mixx.py'], 'Did you mean'),
    ([CONFIG, '--data-root', '/nonexistent/flowers'],
     '/nonexistent/flowers does not exist'),
    ([CONFIG, '--pretrained', '/nonexistent/r101.pth'],
     '/nonexistent/r101.pth: no such file'),
    ([CONFIG, '--from-scratch', '--cfg-options', 'train_cfg.max_epochs=5',
      'param_scheduler.decay_end=7'],
     'got begin=0, warmup_end=1, decay_end=7, end=5'),
    pytest.param([CONFIG, '--amp', '--amp-dtype', 'float16', '--from-scratch'],
                 '--amp-dtype float16 needs a CUDA GPU',
                 marks=pytest.mark.skipif(torch.cuda.is_available(),
                                          reason='a GPU is visible')),
])
def test_bad_input_stops_with_a_clear_error(args, message, annotated_root,
                                            tmp_path, capsys):
    if '--data-root' not in args:
        args = [*args, '--data-root', annotated_root]
    code, err = run_main(TRAIN.main,
                         [*args, '--work-dir', str(tmp_path / 'w')], capsys)
    assert code == 2
    assert message in err


def test_the_command_line_prints_errors_without_a_traceback(annotated_root):
    proc = run_tool('tools/train.py', 'configs/resnet101_freeze2_mixx.py',
                    check=False)
    assert proc.returncode == 2
    assert 'Did you mean' in proc.stderr and 'Traceback' not in proc.stderr


def test_python_options_match_the_tools_flags():
    """train_options / options_for_test / grid_options give what the tools'
    parsers give, so a run started from Python is the run the command line
    starts."""
    from custom_modules.apis.testing import options_for_test
    from custom_modules.apis.training import train_options
    assert vars(train_options('c.py')) == vars(TRAIN.parse_args(['c.py']))
    assert vars(train_options('c.py', from_scratch=True, work_dir='w')) == \
        vars(TRAIN.parse_args(['c.py', '--from-scratch', '--work-dir', 'w']))
    assert vars(options_for_test('c.py', 'k.pth')) == \
        vars(TEST.parse_args(['c.py', 'k.pth']))
    with pytest.raises(UserInputError, match='unknown option.*from_scrach'):
        train_options('c.py', from_scrach=True)
    from custom_modules.apis.grid.api import grid_options
    grid = load_tool('tools/run_grid.py')
    assert vars(grid_options()) == vars(grid.parse_args([]))
    assert vars(grid_options(seeds=[0, 1], early_stop=2,
                             vis_backend=['mlflow'])) == vars(grid.parse_args(
        ['--seeds', '0', '1', '--early-stop', '2', '--vis-backend',
         'mlflow']))
