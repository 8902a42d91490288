"""Two training processes on the CPU (gloo) through tools/dist_train.sh.

One run of the tiny config, started as a user starts it, is checked for what
data-parallel training promises: processes in step, one set of outputs,
validation that agrees with a single-process test, and the LR scaled by the
number of processes with --auto-scale-lr.
"""
import glob
import os
import os.path as osp
import signal
import socket
import subprocess
import sys

import pytest
import torch
from conftest import ROOT, TINY_CONFIG, load_tool, run_main, run_runner

from custom_modules.apis.grid.api import make_grid
from custom_modules.apis.run_logs import log_folders, read_log_entries

TRAIN = load_tool('tools/train.py')
TEST = load_tool('tools/test.py')

# TINY_CONFIG plus a hook that saves each process's final weights.
RANKS_CONFIG = osp.join(ROOT, 'tests/data/configs/'
                        'resnet18_freeze2_fixed_ranks.py')
PLUGINS = osp.join(ROOT, 'tests/data/plugins')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture(scope='module')
def dist_run(annotated_root, tmp_path_factory):
    """``bash tools/dist_train.sh CONFIG 2 --auto-scale-lr``; returns
    (work dir, folder of the per-rank weights)."""
    tmp = tmp_path_factory.mktemp('dist')
    work_dir, ranks = str(tmp / 'run'), str(tmp / 'ranks')
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1',
               PORT=str(free_port()), RANK_STATE_DIR=ranks,
               PYTHONPATH=os.pathsep.join(
                   [PLUGINS, ROOT, os.environ.get('PYTHONPATH', '')]))
    # On a timeout, SIGTERM lets torchrun stop its workers (each runs in a
    # session of its own: killing torchrun would leave them waiting forever).
    proc = subprocess.Popen(
        ['bash', 'tools/dist_train.sh', RANKS_CONFIG, '2', '--from-scratch',
         '--data-root', annotated_root, '--work-dir', work_dir,
         '--auto-scale-lr'],
        cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=500)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, out[-3000:] + err[-5000:]
    return work_dir, ranks


def test_the_processes_end_with_the_same_weights(dist_run):
    work_dir, ranks = dist_run
    rank0, rank1 = (torch.load(osp.join(ranks, f'rank{k}.pth'),
                               weights_only=True) for k in (0, 1))
    checkpoint = torch.load(osp.join(work_dir, 'epoch_2.pth'),
                            weights_only=True)['state_dict']
    assert rank0.keys() == rank1.keys() == checkpoint.keys()
    # Parameters (all-reduced gradients) and BatchNorm statistics
    # (SyncBuffersHook) alike; rank 0's checkpoint holds them.
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
        assert torch.equal(rank0[key], checkpoint[key]), key


def test_outputs_are_written_once(dist_run):
    work_dir, _ = dist_run
    assert len(log_folders(work_dir)) == 1
    logs = glob.glob(osp.join(work_dir, '*', '*.log'))
    assert len(logs) == 1
    with open(logs[0]) as f:
        log = f.read()
    assert 'Distributed training: True' in log
    # Rank 1 logs nothing into the file: each step appears once.
    assert log.count('Epoch(train) [2][3/3]') == 1
    assert sorted(osp.basename(p) for p in glob.glob(
        osp.join(work_dir, '*.pth'))) == [
            'best_accuracy_top1_epoch_2.pth', 'epoch_1.pth', 'epoch_2.pth']


def test_validation_agrees_with_a_single_process_test(
        dist_run, annotated_root, tmp_path):
    work_dir, _ = dist_run
    _, val = read_log_entries(work_dir)
    metrics = run_runner(TEST.main, [
        TINY_CONFIG, osp.join(work_dir, 'epoch_2.pth'), '--data-root',
        annotated_root, '--work-dir', str(tmp_path / 'test')])
    assert metrics['accuracy/top1'] == val[2]['accuracy/top1']


def test_auto_scale_lr_scales_by_the_number_of_processes(dist_run):
    work_dir, _ = dist_run
    (log, ) = glob.glob(osp.join(work_dir, '*', '*.log'))
    with open(log) as f:
        assert 'Scaling the original LR by 2.0' in f.read()
    # The schedule starts from the scaled lr: twice the config's 1e-3.
    groups = torch.load(osp.join(work_dir, 'epoch_2.pth'),
                        weights_only=True)['optimizer']['param_groups']
    assert [g['initial_lr'] for g in groups] == pytest.approx(
        [2e-3] * len(groups))


@pytest.mark.parametrize('options, message', [
    ([], 'RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT not set'),
    (['--cfg-options', 'sync_bn=torch'], 'SyncBN needs GPUs'),
])
def test_a_launcher_without_its_processes_stops_with_a_clear_error(
        options, message, annotated_root, tmp_path, capsys, monkeypatch):
    if 'SyncBN' in message:
        if torch.cuda.is_available():
            pytest.skip('a GPU is visible')
        for name, value in (('RANK', '0'), ('WORLD_SIZE', '1'),
                            ('MASTER_ADDR', '127.0.0.1'),
                            ('MASTER_PORT', str(free_port()))):
            monkeypatch.setenv(name, value)
    else:
        for name in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
            monkeypatch.delenv(name, raising=False)
    code, err = run_main(TRAIN.main, [
        TINY_CONFIG, '--launcher', 'pytorch', '--from-scratch',
        '--data-root', annotated_root, '--work-dir', str(tmp_path / 'w'),
        *options], capsys)
    assert code == 2
    assert message in err


def test_on_gpus_mmengine_starts_the_group_as_usual(monkeypatch):
    """The GPU branch, reached on a CPU: with an accelerator and nccl the
    group is left to mmengine's init_dist (nccl, one GPU per process)."""
    import mmengine.dist
    from mmengine.config import Config

    from custom_modules.apis import config, distributed
    calls = []
    monkeypatch.setattr(distributed, 'accelerator_available', lambda: True)
    monkeypatch.setattr(mmengine.dist, 'init_dist',
                        lambda launcher, **kw: calls.append((launcher, kw)))
    for name, value in (('RANK', '0'), ('WORLD_SIZE', '2'),
                        ('MASTER_ADDR', '127.0.0.1'), ('MASTER_PORT', '1')):
        monkeypatch.setenv(name, value)
    cfg = Config(dict(launcher='pytorch', env_cfg=dict(
        dist_cfg=dict(backend='nccl', timeout=60))))
    assert distributed.init_distributed(cfg)
    assert calls == [('pytorch', {'backend': 'nccl', 'timeout': 60})]
    assert not distributed.wants_gloo(cfg)
    # the study configs' own dist_cfg (mmpretrain's runtime) asks for nccl
    study = config.load_config(osp.join(ROOT, 'configs',
                                        'resnet101_freeze2_fixed.py'))
    study.launcher = 'pytorch'
    assert distributed.init_distributed(study)
    assert calls[-1] == ('pytorch', {'backend': 'nccl'})
    cfg.env_cfg.dist_cfg.backend = 'gloo'  # asked for: started by us
    assert distributed.wants_gloo(cfg)


def test_the_grid_trains_several_processes_through_dist_train(tmp_path):
    """run_grid.py --gpus 2 starts each run as the test above does."""
    run_grid = load_tool('tools/run_grid.py')
    grid = make_grid(run_grid.parse_args(['--gpus', '2',
                                                   '--from-scratch']))
    command = grid.train_command(TINY_CONFIG, str(tmp_path), False, [])
    assert command[:4] == ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'),
                           TINY_CONFIG, '2']
    assert '--from-scratch' in command
