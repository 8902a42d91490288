"""The README's main job, shrunk: every step runs and reports."""
import os.path as osp

from conftest import load_tool, run_main

demo_main = load_tool('tools/demo.py').main


def test_demo_runs_every_step(tmp_path, capsys):
    out = str(tmp_path / 'demo')
    assert demo_main(['--out', out, '--per-class', '12', '--epochs', '2']) \
        == 0
    printed = capsys.readouterr().out
    for step in range(1, 6):
        assert f'[{step}/5]' in printed
    assert 'val accuracy (top-1):' in printed
    for path in ('lr_curve.png', 'flower_dataset/train.txt',
                 'resnet101_freeze3_fixed/training_curves.png',
                 'analysis/confusion_matrix.png', 'analysis/per_class.md'):
        assert osp.isfile(osp.join(out, path)), path
    code, err = run_main(demo_main, ['--out', out], capsys)
    assert code == 2 and 'exists' in err
