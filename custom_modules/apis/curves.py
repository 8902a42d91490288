"""A run's training curves from all its ``vis_data/scalars.json`` files (a
resumed run shows as one curve)."""
import os.path as osp

from matplotlib.figure import Figure

from custom_modules.utils.fileio import save_figure

from .run_logs import read_log_entries


def read_scalars(work_dir):
    """Series ``{name: {epoch: value}}``: loss and lr per logged iteration
    at fractional epochs, validation values per epoch."""
    train, val = read_log_entries(work_dir)
    ends = {}  # epoch -> its last logged step (mmengine logs each epoch's end)
    for entry in train:
        ends[entry['epoch']] = max(ends.get(entry['epoch'], 0), entry['step'])
    series = {}
    for entry in train:
        epoch, start = entry['epoch'], ends.get(entry['epoch'] - 1, 0)
        at = epoch - 1 + (entry['step'] - start) / max(ends[epoch] - start, 1)
        for key in ('loss', 'lr'):
            if key in entry:
                series.setdefault(key, {})[at] = entry[key]
    for epoch, entry in val.items():
        for key, value in entry.items():
            if '/' in key and isinstance(value, (int, float)):
                series.setdefault(key, {})[epoch] = value
    return series


def plot(series, title):
    """One panel each for loss, the accuracies and the learning rate."""
    panels = [(label, keys) for label, keys in (
        ('loss', ['loss']),
        ('accuracy (%)', [k for k in series if 'accuracy' in k]),
        ('learning rate', ['lr'])) if all(k in series for k in keys) and keys]
    fig = Figure(figsize=(5 * len(panels), 3.8), layout='tight')
    for ax, (label, keys) in zip(fig.subplots(1, len(panels), squeeze=False)[0],
                                 panels):
        for key in keys:
            ax.plot(list(series[key]), list(series[key].values()), marker='o',
                    ms=3 if len(series[key]) < 40 else 0, label=key)
        ax.set(xlabel='epoch', ylabel=label)
        ax.grid(alpha=0.3)
        if len(keys) > 1:
            ax.legend(fontsize=8)
    fig.suptitle(title)
    return fig


def plot_curves(work_dir, out=None, force=False):
    """Save the run's curves to ``out`` (default in ``work_dir``)."""
    out = out or osp.join(work_dir, 'training_curves.png')
    save_figure(plot(read_scalars(work_dir),
                     osp.basename(osp.normpath(work_dir))), out, force=force)
    return out
