"""The learning-rate curve a config will produce, its schedulers stepped as
mmengine's ParamSchedulerHook does, without a model or images."""
import math
import os.path as osp

import torch
from matplotlib.figure import Figure
from mmengine.registry import init_default_scope
from mmpretrain.registry import PARAM_SCHEDULERS

from custom_modules.utils.fileio import save_figure

from .preflight import under_root

REAL_EPOCH_LENGTH = 72  # 2274 training photos / batch 32


def epoch_length_of(cfg):
    """Iterations per epoch from the train annotation file, if it exists."""
    loader = cfg.train_dataloader
    path = under_root(loader.dataset.get('data_root', ''),
                      loader.dataset.ann_file)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        lines = sum(1 for line in f if line.strip())
    return max(1, math.ceil(lines / loader.batch_size))


def simulate_lr(cfg, epoch_length):
    """``cfg``'s schedule as per-iteration (epoch as a float, lr) pairs."""
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    max_epochs = cfg.train_cfg.max_epochs
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))],
                                lr=cfg.optim_wrapper.optimizer.lr)
    configs = cfg.param_scheduler
    schedulers = [PARAM_SCHEDULERS.build(dict(
        {'end': max_epochs, **c},  # the Runner's default end
        optimizer=optimizer, epoch_length=epoch_length))
        for c in ([configs] if isinstance(configs, dict) else configs)]
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
    """The curve, with the phases of a warm-up/step/cosine schedule marked."""
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    ax.plot(*zip(*points), lw=1.8)
    scheduler = cfg.param_scheduler
    if isinstance(scheduler, dict) and 'warmup_end' in scheduler:
        top = max(p[1] for p in points)
        bounds = [0, scheduler['warmup_end'], scheduler['decay_end'],
                  max(p[0] for p in points)]
        for x in bounds[1:3]:
            if x:
                ax.axvline(x, color='grey', ls='--', lw=0.8)
        # alternately high and low: one-epoch phases must not overlap
        for i, label in enumerate(('warm-up', 'step', 'cosine')):
            if bounds[i + 1] > bounds[i]:
                ax.text((bounds[i] + bounds[i + 1]) / 2,
                        top * (1.02 if i % 2 == 0 else 1.10), label,
                        color='grey', ha='center', fontsize='small')
        ax.set_ylim(top=top * 1.2)
    ax.set(xlabel='epoch', ylabel='learning rate', title=title)
    ax.grid(alpha=0.3)
    ax.ticklabel_format(axis='y', style='sci', scilimits=(-2, 2))
    return fig


def draw_lr_curve(cfg, out, name, epoch_length=None, force=False):
    """Save ``cfg``'s simulated schedule, titled ``name``, to ``out``."""
    length = epoch_length or epoch_length_of(cfg) or REAL_EPOCH_LENGTH
    fig = plot(simulate_lr(cfg, length), cfg,
               f'{name} ({length} iterations / epoch)')
    save_figure(fig, out, force=force)
    return out
