"""Plot a run's training curves (loss, accuracy, learning rate) to a PNG.

    python tools/analysis/plot_curves.py work_dirs/resnet101_freeze2_mix

reads the ``vis_data/scalars.json`` files mmengine's LocalVisBackend writes
(all of them, so a resumed run shows as one curve).
"""
import os.path as osp
from collections import defaultdict

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt

from custom_modules.utils.fileio import save_figure

from .run_logs import read_log_entries


def read_scalars(work_dir):
    """Per-epoch series ``{name: {epoch: value}}`` from the run's logs.

    Training values (logged per iteration) are averaged over their epoch;
    validation values (including ``train_accuracy/top1``) are per epoch.
    """
    train, val = read_log_entries(work_dir)
    sums = defaultdict(lambda: defaultdict(list))
    for entry in train:
        for key in ('loss', 'lr'):
            if key in entry:
                sums[key][entry['epoch']].append(entry[key])
    series = {k: {e: sum(v) / len(v) for e, v in sorted(d.items())}
              for k, d in sums.items()}
    for epoch, entry in val.items():
        for key, value in entry.items():
            if '/' in key and isinstance(value, (int, float)):
                series.setdefault(key, {})[epoch] = value
    return series


def plot(series, title):
    panels = [('loss', ['loss']),
              ('accuracy (%)', [k for k in series if 'accuracy' in k]),
              ('learning rate', ['lr'])]
    panels = [(label, [k for k in keys if k in series])
              for label, keys in panels]
    panels = [p for p in panels if p[1]]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.8))
    for ax, (label, keys) in zip(list(axes) if len(panels) > 1 else [axes],
                                 panels):
        for key in keys:
            xs = list(series[key])
            ax.plot(xs, [series[key][x] for x in xs], marker='o', ms=3,
                    label=key)
        ax.set(xlabel='epoch', ylabel=label)
        ax.grid(alpha=0.3)
        if len(keys) > 1:
            ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_curves(work_dir, out=None, force=False):
    out = out or osp.join(work_dir, 'training_curves.png')
    fig = plot(read_scalars(work_dir), osp.basename(osp.normpath(work_dir)))
    save_figure(fig, out, force=force)
    plt.close(fig)
    return out
