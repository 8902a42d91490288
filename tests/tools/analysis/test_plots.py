"""The LR-curve and training-curve tools write real pictures."""
import os.path as osp

import pytest
from conftest import ROOT, load_tool, run_main
from mmengine.config import Config
from PIL import Image

from custom_modules.apis.curves import read_scalars
from custom_modules.apis.lr_curve import simulate_lr
from custom_modules.utils.errors import UserInputError


def test_lr_curve_png_and_values(tmp_path, capsys):
    out = str(tmp_path / 'lr.png')
    config = osp.join(ROOT, 'configs', 'resnet101_freeze2_mix.py')
    plot_lr = load_tool('tools/analysis/plot_lr.py').main
    assert plot_lr([config, '--epoch-length', '10', '--out', out]) == 0
    assert 'wrote' in capsys.readouterr().out
    with Image.open(out) as img:
        assert img.format == 'PNG' and img.width > 400
    code, err = run_main(plot_lr, [config, '--out', out], capsys)
    assert code == 2 and '--force' in err


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


def test_lr_phase_labels_do_not_overlap():
    """Before: 'step' and 'cosine' were printed over each other (the photos
    demo's schedule has no step phase: warmup_end = decay_end = 0.5)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from mmengine.config import Config

    from custom_modules.apis.lr_curve import plot
    cfg = Config(dict(param_scheduler=dict(warmup_end=0.5, decay_end=0.5)))
    points = [(x / 10, 1e-3) for x in range(21)]
    fig = plot(points, cfg, 'lr')
    renderer = FigureCanvasAgg(fig).get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts]
    assert [t.get_text() for t in fig.axes[0].texts] == ['warm-up', 'cosine']
    assert not any(a.overlaps(b) for i, a in enumerate(boxes)
                   for b in boxes[i + 1:])


def test_training_curves_are_per_iteration(tmp_path):
    """Before: loss and lr averaged per epoch, so a 2-epoch run drew two
    points joined by a line. Now each logged iteration is a point, at its
    fractional epoch."""
    import json

    from custom_modules.apis.curves import plot
    vis_data = tmp_path / '20260101_000000' / 'vis_data'
    vis_data.mkdir(parents=True)
    lines = [dict(lr=0.1 * step, loss=1 / step, epoch=1 + (step > 4),
                  step=step) for step in range(2, 9, 2)]
    lines.insert(2, {'accuracy/top1': 50.0, 'step': 1})
    lines.append({'accuracy/top1': 60.0, 'step': 2})
    (vis_data / 'scalars.json').write_text(
        ''.join(json.dumps(line) + '\n' for line in lines))
    series = read_scalars(str(tmp_path))
    assert series['loss'] == {0.5: 1 / 2, 1.0: 1 / 4, 1.5: 1 / 6, 2.0: 1 / 8}
    assert list(series['lr'].values()) == pytest.approx([.2, .4, .6, .8])
    assert series['accuracy/top1'] == {1: 50.0, 2: 60.0}
    loss_axis = plot(series, 'run').axes[0]
    assert list(loss_axis.lines[0].get_xdata()) == [0.5, 1.0, 1.5, 2.0]
