"""SIGKILL a training run at an iteration and inside checkpoint saves, resume
it each time, and get bit-identical weights to an uninterrupted run."""
import glob
import os
import os.path as osp
import signal

import pytest
import torch
from conftest import ROOT, run_tool

from custom_modules.apis.run_logs import best_checkpoint, summarize_run

KILL_CONFIG = osp.join(ROOT, 'tests/data/configs/resnet18_kill_resume.py')
FAULT = 'custom_hooks.2'  # FaultInjectionHook in KILL_CONFIG
PLUGINS = osp.join(ROOT, 'tests/data/plugins')  # where it lives


@pytest.fixture(scope='module', autouse=True)
def plugins_importable():
    """FaultInjectionHook, in tests/data/plugins, for the runs and for the
    saved configs this process reads back."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(PLUGINS)
        patch.setenv('PYTHONPATH', os.pathsep.join(
            [PLUGINS, os.environ.get('PYTHONPATH', ROOT)]))
        yield


def train(work_dir, data_root, *options, resume=False):
    """tools/train.py on KILL_CONFIG as a subprocess; returns the process."""
    return run_tool('tools/train.py', KILL_CONFIG, '--work-dir', work_dir,
                    '--data-root', data_root, '--from-scratch',
                    *(['--resume'] if resume else []),
                    *(['--cfg-options', *options] if options else []),
                    check=False)


def tensors(path):
    """Every tensor of a checkpoint (weights, buffers, optimizer state)."""
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    found = {f'state_dict.{k}': v for k, v in ckpt['state_dict'].items()}
    for pid, state in ckpt.get('optimizer', {}).get('state', {}).items():
        found.update((f'optimizer.{pid}.{k}', v) for k, v in state.items()
                     if torch.is_tensor(v))
    return found


def committed(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


@pytest.fixture(scope='module')
def reference(annotated_root, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('uninterrupted'))
    proc = train(work_dir, annotated_root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return work_dir


def test_kills_then_resumes_give_bit_identical_weights(reference,
                                                      annotated_root,
                                                      tmp_path):
    work_dir = str(tmp_path / 'killed')
    # 5 iterations per epoch, 3 epochs, one kept epoch checkpoint; the best
    # improves at epochs 1 and 3 with this seed (checked below).
    faults = [
        f'{FAULT}.kill_after_iter=7',   # mid-epoch 2
        f'{FAULT}.kill_in_save=1',      # writing epoch_2.pth
        f'{FAULT}.kill_in_best_save=1',  # writing the epoch-3 best
    ]
    for i, fault in enumerate(faults):
        proc = train(work_dir, annotated_root, fault, resume=i > 0)
        assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
        # The marker always names a whole checkpoint that loads.
        assert tensors(committed(work_dir))
    # What an older, non-atomic writer could leave; the resume removes it.
    leftovers = [osp.join(work_dir, '.epoch_3.pth.tmp'),
                 osp.join(work_dir, 'best_accuracy_top1_epoch_2.pth')]
    for path in leftovers:
        with open(path, 'wb') as f:
            f.write(b'PK\x03\x04 truncated')
    proc = train(work_dir, annotated_root, resume=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not any(osp.exists(p) for p in leftovers)

    expected, got = tensors(osp.join(reference, 'epoch_3.pth')), tensors(
        osp.join(work_dir, 'epoch_3.pth'))
    assert expected.keys() == got.keys()
    differ = [k for k in expected if not torch.equal(expected[k], got[k])]
    assert not differ, f'{len(differ)} of {len(expected)} tensors differ'

    # One best checkpoint: the one the logs and the uninterrupted run name,
    # with the same weights.
    best = best_checkpoint(work_dir)
    assert glob.glob(osp.join(work_dir, 'best_*.pth')) == [best]
    assert osp.basename(best) == osp.basename(best_checkpoint(reference))
    summary = summarize_run(work_dir)
    assert osp.basename(best) == (
        f'best_accuracy_top1_epoch_{summary["best_epoch"]}.pth')
    ref_summary = summarize_run(reference)
    for key in ('val_acc', 'train_acc', 'macro_f1', 'best_epoch', 'epochs'):
        assert summary[key] == ref_summary[key], key
    ref_best, got_best = tensors(best_checkpoint(reference)), tensors(best)
    assert all(torch.equal(ref_best[k], got_best[k]) for k in ref_best)
    assert not glob.glob(osp.join(work_dir, '.*'))
