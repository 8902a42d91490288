"""The README's main job, shrunk: every step runs and reports."""
import os.path as osp

from conftest import run_tool


def test_demo_runs_every_step(tmp_path):
    out = str(tmp_path / 'demo')
    proc = run_tool('tools/demo.py', '--out', out, '--per-class', '12',
                    '--epochs', '1', '--size', '32')
    for step in range(1, 6):
        assert f'[{step}/5]' in proc.stdout
    assert 'val accuracy (top-1):' in proc.stdout
    for path in ('lr_curve.png', 'flower_dataset/train.txt',
                 'resnet101_freeze3_fixed/training_curves.png',
                 'analysis/confusion_matrix.png', 'analysis/per_class.md'):
        assert osp.isfile(osp.join(out, path)), path
    again = run_tool('tools/demo.py', '--out', out, check=False)
    assert again.returncode == 2 and 'exists' in again.stderr
