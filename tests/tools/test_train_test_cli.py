"""Train, resume and test through the real command-line tools.

A ResNet-18 stand-in at 32 px keeps this to seconds; the configs' own models
are covered in tests/configs.
"""
import glob
import json
import os
import os.path as osp
import pickle
import shutil

import pytest
import torch
from conftest import run_tool, tiny_options

CONFIG = 'configs/resnet101_freeze2_fixed.py'


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


@pytest.fixture(scope='module')
def trained(annotated_root, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('train') / 'run')
    run_tool('tools/train.py', CONFIG, '--from-scratch', '--data-root',
             annotated_root, '--work-dir', work_dir, '--cfg-options',
             *tiny_options(), 'default_hooks.logger.interval=1')
    return work_dir


def test_training_writes_checkpoints_that_load_weights_only(trained):
    for name in ('epoch_1.pth', 'epoch_2.pth'):
        checkpoint = torch.load(osp.join(trained, name), weights_only=True)
        assert checkpoint['meta']['epoch'] == int(name[6])
        assert 'message_hub' in checkpoint and 'param_schedulers' in checkpoint


def test_resume_from_a_checkpoint_continues_the_same_schedule(
        trained, annotated_root, tmp_path):
    work_dir = str(tmp_path / 'resumed')
    proc = run_tool('tools/train.py', CONFIG, '--from-scratch', '--data-root',
                    annotated_root, '--work-dir', work_dir, '--resume',
                    osp.join(trained, 'epoch_1.pth'), '--cfg-options',
                    *tiny_options(), 'default_hooks.logger.interval=1')
    assert 'resumed epoch: 1' in proc.stdout + proc.stderr
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
    proc = run_tool('tools/train.py', CONFIG, '--from-scratch', '--data-root',
                    annotated_root, '--work-dir', work_dir, '--resume',
                    '--cfg-options', *tiny_options())
    assert 'resumed epoch: 1' in proc.stdout + proc.stderr
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))


def test_existing_run_is_not_overwritten(trained, annotated_root):
    before = os.path.getmtime(osp.join(trained, 'epoch_2.pth'))
    proc = run_tool('tools/train.py', CONFIG, '--from-scratch', '--data-root',
                    annotated_root, '--work-dir', trained, '--cfg-options',
                    *tiny_options(), check=False)
    assert proc.returncode == 2
    assert 'already holds a run' in proc.stderr and '--resume' in proc.stderr
    assert os.path.getmtime(osp.join(trained, 'epoch_2.pth')) == before


def test_test_tool_reports_accuracy_and_dumps_predictions(
        trained, annotated_root, tmp_path):
    out = str(tmp_path / 'preds.pkl')
    proc = run_tool('tools/test.py', CONFIG, osp.join(trained, 'epoch_2.pth'),
                    '--data-root', annotated_root, '--work-dir',
                    str(tmp_path / 'test'), '--out', out, '--cfg-options',
                    *tiny_options())
    assert 'accuracy/top1' in proc.stdout + proc.stderr
    with open(out, 'rb') as f:
        predictions = pickle.load(f)
    with open(osp.join(annotated_root, 'val.txt')) as f:
        assert len(predictions) == len(f.readlines())
    assert predictions[0]['pred_score'].shape == (5, )
    # A second --out to the same file is refused.
    again = run_tool('tools/test.py', CONFIG, osp.join(trained, 'epoch_2.pth'),
                     '--data-root', annotated_root, '--out', out, check=False)
    assert again.returncode == 2 and '--force' in again.stderr


def test_tta_runs(trained, annotated_root, tmp_path):
    proc = run_tool('tools/test.py', CONFIG, osp.join(trained, 'epoch_2.pth'),
                    '--data-root', annotated_root, '--tta', '--work-dir',
                    str(tmp_path), '--cfg-options', *tiny_options())
    assert 'accuracy/top1' in proc.stdout + proc.stderr


@pytest.mark.parametrize('args, message', [
    (['configs/resnet101_freeze2_mixx.py'], 'Did you mean'),
    ([CONFIG, '--data-root', '/nonexistent/flowers'],
     '/nonexistent/flowers does not exist'),
    ([CONFIG, '--pretrained', '/nonexistent/r101.pth'],
     '/nonexistent/r101.pth: no such file'),
    ([CONFIG, '--from-scratch', '--cfg-options', 'train_cfg.max_epochs=5'],
     'got begin=0, warmup_end=10, decay_end=20, end=5'),
    pytest.param([CONFIG, '--amp', '--from-scratch'], '--amp needs a CUDA',
                  marks=pytest.mark.skipif(torch.cuda.is_available(),
                                           reason='a GPU is visible')),
    pytest.param([CONFIG, '--launcher', 'pytorch', '--from-scratch'],
                 '--launcher pytorch needs GPUs',
                 marks=pytest.mark.skipif(torch.cuda.is_available(),
                                          reason='a GPU is visible')),
])
def test_bad_input_stops_with_a_clear_error(args, message, annotated_root):
    if '--data-root' not in args:
        args = [*args, '--data-root', annotated_root]
    proc = run_tool('tools/train.py', *args, check=False)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert 'Traceback' not in proc.stderr
