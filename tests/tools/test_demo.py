"""The README's main job, shrunk: every step runs and reports."""
import importlib.util
import os.path as osp

from conftest import ROOT, run_main, run_tool


def load_tool(path):
    spec = importlib.util.spec_from_file_location('tool', osp.join(ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


demo_main = load_tool('tools/demo.py').main


def test_demo_runs_every_step(tmp_path, capsys):
    out = str(tmp_path / 'demo')
    proc = run_tool('tools/demo.py', '--out', out, '--per-class', '12',
                    '--epochs', '2')
    for step in range(1, 6):
        assert f'[{step}/5]' in proc.stdout
    assert 'val accuracy (top-1):' in proc.stdout
    for path in ('lr_curve.png', 'flower_dataset/train.txt',
                 'resnet101_freeze3_fixed/training_curves.png',
                 'analysis/confusion_matrix.png', 'analysis/per_class.md'):
        assert osp.isfile(osp.join(out, path)), path
    code, err = run_main(demo_main, ['--out', out], capsys)
    assert code == 2 and 'exists' in err
