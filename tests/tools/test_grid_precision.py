"""tools/run_grid.py --amp / --amp-dtype / --channels-last: every child
tool of a run gets them, bad ones stop the grid before any run, and the
results name each run's precision (its speed compares only within one)."""
import os.path as osp

import pytest
from conftest import ROOT, TINY_CONFIG, load_tool, run_main

from custom_modules.apis import precision
from custom_modules.apis.grid import results
from custom_modules.apis.grid.api import make_grid

TRAIN = load_tool('tools/train.py')

FLAGS = ['--amp', '--amp-dtype', 'bfloat16', '--channels-last']
run_grid = load_tool('tools/run_grid.py')


def grid_args(*extra):
    return make_grid(run_grid.parse_args(
        ['--from-scratch', '--data-root', 'data/x', '--cfg-options',
         'train_cfg.max_epochs=1', *extra]))


@pytest.mark.parametrize('gpus', [1, 2])
def test_train_command_carries_the_flags_to_train_py(gpus, tmp_path):
    grid = grid_args('--gpus', str(gpus), *FLAGS, '--vis-backend',
                     'tensorboard', '--vis-backend', 'mlflow',
                     '--early-stop', '2')
    command = grid.train_command(TINY_CONFIG, str(tmp_path), False,
                                 ['randomness.seed=3'])
    if gpus > 1:  # dist_train.sh runs: train.py CONFIG --launcher pytorch "$@"
        assert command[:4] == ['bash', osp.join(ROOT, 'tools',
                                                'dist_train.sh'),
                               TINY_CONFIG, '2']
        argv = [TINY_CONFIG, '--launcher', 'pytorch', *command[4:]]
    else:
        argv = command[2:]
    child = TRAIN.parse_args(argv)  # what train.py itself reads
    assert (child.amp, child.amp_dtype, child.channels_last) == (
        True, 'bfloat16', True)
    assert child.cfg_options == {'randomness.seed': 3}  # still the last
    assert child.launcher == ('pytorch' if gpus > 1 else 'none')
    # Tracking and early stopping reach train.py only.
    assert (child.vis_backend, child.early_stop) == (
        ['tensorboard', 'mlflow'], 2)
    assert '--early-stop' not in grid.child_args([])


def test_calibrate_and_test_get_the_same_flags():
    common = grid_args(*FLAGS).child_args(['randomness.seed=3'])
    assert common == ['--data-root', 'data/x', *FLAGS, '--cfg-options',
                      'randomness.seed=3']
    assert grid_args().child_args([]) == ['--data-root', 'data/x']


@pytest.mark.parametrize('flags, message', [
    (['--amp-dtype', 'bfloat16'], '--amp-dtype needs --amp'),
    (['--amp', '--amp-dtype', 'float16'], 'float16 needs a CUDA GPU'),
])
def test_bad_precision_stops_the_grid_before_any_run(flags, message,
                                                     tmp_path, capsys):
    work_dir = tmp_path / 'grid'
    code, err = run_main(run_grid.main, ['--configs', 'resnet101_freeze2_fixed',
                                    '--work-dir', str(work_dir), *flags],
                         capsys)
    assert code == 2 and message in err
    assert not work_dir.exists()


def test_amp_on_a_cpu_without_bfloat16_stops_the_grid(tmp_path, capsys,
                                                      monkeypatch):
    monkeypatch.setattr(precision, 'cpu_supports_bf16', lambda: False)
    code, err = run_main(run_grid.main, ['--work-dir', str(tmp_path / 'g'),
                                    '--amp'], capsys)
    assert code == 2 and 'no native bfloat16' in err


@pytest.mark.parametrize('cfg, label', [
    (dict(optim_wrapper=dict(type='OptimWrapper')), 'fp32'),
    (dict(optim_wrapper=dict(type='CpuAmpOptimWrapper', dtype='bfloat16'),
          custom_hooks=[dict(type='ChannelsLastHook')]),
     'amp bfloat16 + channels_last'),
    (dict(optim_wrapper=dict(type='AmpOptimWrapper', dtype=None)),
     'amp float16'),
    (dict(optim_wrapper=None, custom_hooks=[
        dict(type='mmpretrain.ChannelsLastHook')]), 'fp32 + channels_last'),
])
def test_precision_label_reads_what_a_config_computes_in(cfg, label):
    from mmengine.config import Config
    assert precision.precision_label(Config(cfg)) == label


def record(config, precision_label, **extra):
    return dict(config=config, model='ResNet-18', frozen_stages='2',
                augmentation='fixed', seed=None, precision=precision_label,
                val_acc=90.0, train_acc=95.0, best_epoch=2, macro_f1=89.0,
                wall_time_s=10.0, img_per_s=5.0, **extra)


def test_one_precision_is_a_note_several_are_a_column():
    same = results.results_markdown(results.aggregate([
        record('a.py', 'amp bfloat16'), record('b.py', 'amp bfloat16')]))
    assert 'Precision: amp bfloat16 (every run).' in same
    assert '| Precision |' not in same
    mixed = results.results_markdown(results.aggregate([
        record('a.py', 'fp32'), record('b.py', 'amp bfloat16 + channels_last'),
        record('c.py', None)]))  # a run from before precision was recorded
    assert 'Runs differ in precision' in mixed
    lines = [line for line in mixed.splitlines() if line.startswith('|')]
    assert lines[0].startswith('| Model | Frozen stages | Augmentation | '
                               'Precision | Train images |')
    assert len({line.count('|') for line in lines}) == 1  # a valid table
    assert [line.split('|')[4].strip() for line in lines[2:]] == [
        'fp32', 'amp bfloat16 + channels_last', '-']
