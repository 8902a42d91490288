"""Output locations that cannot be written end in one named error before
the long work, and a full disk names the file and the free space
(issue 20 #11); test.py prints its metrics even when --out fails."""
import errno
import glob
import os
import os.path as osp

import pytest
from conftest import TINY_CONFIG, load_tool, run_main

from custom_modules.evaluation.metrics import dump_predictions
from custom_modules.utils import fileio
from custom_modules.utils.cli import run_cli
from custom_modules.utils.errors import UserInputError

TOOLS = {name: load_tool(path).main for name, path in {
    'train': 'tools/train.py', 'test': 'tools/test.py',
    'infer': 'tools/infer.py', 'analyze': 'tools/analysis/analyze_predictions.py',
    'export': 'tools/deploy/export_onnx.py',
    'vis_cam': 'tools/visualization/vis_cam.py',
    'plot_lr': 'tools/analysis/plot_lr.py'}.items()}


@pytest.fixture
def a_file(tmp_path):
    """A regular file: no path under it can be created (even by root)."""
    path = tmp_path / 'plain_file'
    path.write_text('x')
    return str(path)


def image_of(root):
    return sorted(glob.glob(osp.join(root, 'images', '*', '*')))[0]


@pytest.mark.parametrize('tool', ['train', 'test', 'infer', 'analyze',
                                  'export', 'vis_cam', 'plot_lr'])
def test_an_output_under_a_file_is_a_named_error(
        tool, a_file, annotated_root, tiny_checkpoint, tmp_path, capsys):
    preds = str(tmp_path / 'preds.json')
    with open(preds, 'w') as f:
        f.write('{"samples": [{"img_path": "a.jpg", "gt_label": 0, '
                '"pred_score": [0.9, 0.1]}]}')
    image = image_of(annotated_root)
    data = ['--data-root', annotated_root]
    argv = {
        'train': [TINY_CONFIG, '--work-dir', f'{a_file}/run', *data],
        'test': [TINY_CONFIG, tiny_checkpoint, '--out', f'{a_file}/p.json',
                 '--work-dir', str(tmp_path / 't'), *data],
        'infer': [TINY_CONFIG, tiny_checkpoint, image, '--out',
                  f'{a_file}/r.csv'],
        'analyze': [preds, '--out-dir', f'{a_file}/analysis'],
        'export': [TINY_CONFIG, tiny_checkpoint, '--out', f'{a_file}/m.onnx'],
        'vis_cam': [TINY_CONFIG, tiny_checkpoint, '--img', image, '--out',
                    f'{a_file}/cam.png'],
        'plot_lr': [TINY_CONFIG, '--out', f'{a_file}/lr.png'],
    }[tool]
    code, err = run_main(TOOLS[tool], argv, capsys)
    assert code == 2
    assert f'{a_file} is a file, not a folder' in err
    assert 'Traceback' not in err


def test_a_read_only_location_is_named(tmp_path, monkeypatch):
    out = str(tmp_path / 'read_only' / 'results.csv')
    real_access = os.access
    monkeypatch.setattr(os, 'access', lambda p, mode: False if str(
        p).startswith(str(tmp_path)) else real_access(p, mode))
    with pytest.raises(UserInputError, match=r'is not writable \(read-only'):
        fileio.atomic_write(out, lambda f: f.write('x'))


def test_a_full_disk_names_the_file_and_the_free_space(tmp_path):
    def write(f):
        f.write('partial')
        raise OSError(errno.ENOSPC, 'No space left on device')
    out = str(tmp_path / 'big.json')
    with pytest.raises(UserInputError) as error:
        fileio.atomic_write(out, write)
    assert f'no space left on the device writing {out}' in str(error.value)
    assert 'MiB free' in str(error.value)
    assert os.listdir(tmp_path) == []  # no temp file left behind


def test_test_prints_its_metrics_when_out_cannot_be_written(
        annotated_root, tiny_checkpoint, tmp_path, monkeypatch, capfd):
    out = str(tmp_path / 'preds.json')
    real = fileio.atomic_write

    def full(path, *args, **kwargs):
        if path != out:
            return real(path, *args, **kwargs)
        raise OSError(errno.ENOSPC, 'No space left on device', path)
    monkeypatch.setattr(dump_predictions, 'atomic_write', full)  # --out's writer
    with pytest.raises(SystemExit) as exit_info:
        run_cli(TOOLS['test'], [
            TINY_CONFIG, tiny_checkpoint, '--out', out, '--data-root',
            annotated_root, '--work-dir', str(tmp_path / 'test')])
    captured = capfd.readouterr()
    assert exit_info.value.code == 2
    assert 'accuracy (top-1)' in captured.out
    assert f'--out {out} was not written' in captured.err
    assert 'No space left on device' in captured.err
    assert not osp.exists(out)
