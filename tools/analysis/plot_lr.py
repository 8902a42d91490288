"""Draw the learning-rate curve a config will produce, to a PNG.

    python tools/analysis/plot_lr.py configs/resnet101_freeze2_mix.py

simulates the config's optimizer and param schedulers step by step (the way
mmengine's ParamSchedulerHook drives them) without building a model or
reading images.
"""
import argparse
import copy
import math
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

import matplotlib  # noqa: E402

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmpretrain.registry import PARAM_SCHEDULERS  # noqa: E402

from custom_modules.outputs import save_figure  # noqa: E402
from custom_modules.preflight import under_root  # noqa: E402
from custom_modules.setup_config import load_config, run_cli  # noqa: E402

REAL_EPOCH_LENGTH = 72  # 2274 training photos / batch 32


def epoch_length_of(cfg):
    """Iterations per epoch from the train annotation file, if it exists."""
    loader = cfg.train_dataloader
    dataset = loader['dataset']
    path = under_root(dataset.get('data_root', ''), dataset['ann_file'])
    if not osp.isfile(path):
        return None
    with open(path) as f:
        lines = sum(1 for line in f if line.strip())
    return max(1, math.ceil(lines / loader['batch_size']))


def simulate_lr(cfg, epoch_length):
    """Per-iteration learning rates: a list of (epoch as float, lr)."""
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    max_epochs = cfg.train_cfg.max_epochs
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))],
                                lr=cfg.optim_wrapper.optimizer.lr)
    configs = cfg.param_scheduler
    if isinstance(configs, dict):
        configs = [configs]
    schedulers = []
    for scheduler_cfg in configs:
        scheduler_cfg = copy.deepcopy(dict(scheduler_cfg))
        scheduler_cfg.setdefault('end', max_epochs)  # as the Runner does
        schedulers.append(PARAM_SCHEDULERS.build(
            dict(scheduler_cfg, optimizer=optimizer,
                 epoch_length=epoch_length)))
    points = []
    for epoch in range(max_epochs):
        for i in range(epoch_length):
            points.append((epoch + i / epoch_length,
                           optimizer.param_groups[0]['lr']))
            optimizer.step()
            for s in schedulers:
                if not s.by_epoch:
                    s.step()
        for s in schedulers:
            if s.by_epoch:
                s.step()
    return points


def plot(points, cfg, title):
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot([p[0] for p in points], [p[1] for p in points], lw=1.8)
    scheduler = cfg.param_scheduler
    if isinstance(scheduler, dict) and 'warmup_end' in scheduler:
        top = max(p[1] for p in points)
        for x, label in ((0, 'warm-up'), (scheduler['warmup_end'], 'step'),
                         (scheduler['decay_end'], 'cosine')):
            if x:
                ax.axvline(x, color='grey', ls='--', lw=0.8)
            ax.text(x + 0.3, top * 1.02, label, color='grey')
    ax.set(xlabel='epoch', ylabel='learning rate', title=title)
    ax.grid(alpha=0.3)
    ax.ticklabel_format(axis='y', style='sci', scilimits=(-2, 2))
    return fig


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--out', help='PNG path (default: work_dirs/'
                        '<config name>/lr_curve.png)')
    parser.add_argument('--epoch-length', type=int,
                        help='iterations per epoch (default: from the train '
                        f'annotation file, else {REAL_EPOCH_LENGTH}, the '
                        'flower photos at batch 32)')
    parser.add_argument('--force', action='store_true',
                        help='replace an existing PNG')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    name = osp.splitext(osp.basename(args.config))[0]
    out = args.out or osp.join('work_dirs', name, 'lr_curve.png')
    length = args.epoch_length or epoch_length_of(cfg) or REAL_EPOCH_LENGTH
    points = simulate_lr(cfg, length)
    fig = plot(points, cfg, f'{name} ({length} iterations / epoch)')
    save_figure(fig, out, force=args.force)
    plt.close(fig)
    print(f'wrote {out}')
    return out


if __name__ == '__main__':
    run_cli(main)
