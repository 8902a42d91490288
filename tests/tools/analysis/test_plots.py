"""The LR-curve and training-curve tools write real pictures."""
import os.path as osp

import pytest
from conftest import ROOT, run_tool
from mmengine.config import Config
from PIL import Image
from plot_curves import read_scalars
from plot_lr import simulate_lr

from custom_modules.errors import UserInputError


def test_lr_curve_png_and_values(tmp_path):
    out = str(tmp_path / 'lr.png')
    proc = run_tool('tools/analysis/plot_lr.py',
                    'configs/resnet101_freeze2_mix.py', '--epoch-length',
                    '10', '--out', out)
    assert 'wrote' in proc.stdout
    with Image.open(out) as img:
        assert img.format == 'PNG' and img.width > 400
    again = run_tool('tools/analysis/plot_lr.py',
                     'configs/resnet101_freeze2_mix.py', '--out', out,
                     check=False)
    assert again.returncode == 2 and '--force' in again.stderr


def test_simulated_lr_follows_the_schedule():
    cfg = Config.fromfile(osp.join(ROOT, 'configs',
                                   'vgg11_freeze3_fixed.py'))
    points = dict(simulate_lr(cfg, epoch_length=4))
    lr = cfg.optim_wrapper.optimizer.lr
    assert points[0.0] == pytest.approx(lr * 0.1)
    assert points[10.0] == pytest.approx(lr)
    assert points[15.0] == pytest.approx(lr * 0.5)
    assert points[39.75] > cfg.param_scheduler.eta_min
    assert len(points) == 40 * 4


def test_curves_need_a_work_dir(tmp_path):
    with pytest.raises(UserInputError, match='scalars.json'):
        read_scalars(str(tmp_path))
