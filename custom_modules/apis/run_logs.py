"""Read what mmengine logged for a training run, and find its checkpoints."""
import glob
import json
import os.path as osp
import re
import zipfile
from itertools import groupby
from pathlib import Path

from mmengine.config import Config
from mmpretrain.utils import load_json_log

from custom_modules.utils.checkpoint import last_checkpoint
from custom_modules.utils.errors import UserInputError

from .precision import precision_label

_BEST = re.compile(r'best_.*_epoch_(\d+)\.pth$')
_EPOCH = re.compile(r'epoch_(\d+)\.pth$')


def log_folders(work_dir):
    """The run's timestamped log folders, oldest first (one per resume)."""
    return sorted(osp.dirname(osp.dirname(p)) for p in glob.glob(
        osp.join(work_dir, '*', 'vis_data', 'scalars.json')))


def read_log_entries(work_dir):
    """Read every ``scalars.json`` of a run as one uninterrupted run.

    Args:
        work_dir (str): The run's work dir.

    Returns:
        tuple: (train entries sorted by step, ``{epoch: val entry}``); a
        resumed run's later folder wins for the same step.
    """
    folders = log_folders(work_dir)
    if not folders:
        raise UserInputError(
            f'no */vis_data/scalars.json under {work_dir}; is it a work dir '
            'of tools/train.py?')
    train, val = {}, {}
    for folder in folders:
        log = load_json_log(osp.join(folder, 'vis_data', 'scalars.json'))
        train.update((e['step'], e) for e in log['train'])
        # A standalone test logs no accuracy/top1 step.
        val.update((e['step'], e) for e in log['val'] if 'accuracy/top1' in e)
    return [train[k] for k in sorted(train)], dict(sorted(val.items()))


def read_config_data(path):
    """A ``config.json`` that training saved, as a Config (read as data,
    nothing in it runs); None if absent or unreadable."""
    try:
        data = json.loads(Path(path).read_text(encoding='utf-8'))
    except (OSError, ValueError):
        return None
    return Config(data) if isinstance(data, dict) else None


def run_config(work_dir):
    """The run's ``config.json`` (else the last log folder's) as data, or
    None: a run folder's ``.py`` is never executed."""
    paths = [osp.join(work_dir, 'config.json')] + [
        osp.join(f, 'vis_data', 'config.json')
        for f in reversed(log_folders(work_dir))]
    return next((c for c in map(read_config_data, paths) if c), None)


def best_checkpoint(work_dir):
    """The best checkpoint CheckpointHook kept, else ``last_checkpoint``'s.

    Of the ``best_*_epoch_N.pth`` files, the highest N that is a whole zip
    no later than the committed ``last_checkpoint`` (a later one belongs to
    an interrupted commit).
    """
    marker = osp.join(work_dir, 'last_checkpoint')
    last = Path(marker).read_text().strip() if osp.isfile(marker) else None
    committed = _EPOCH.search(last or '')
    best = [(int(m.group(1)), p) for p in glob.glob(
        osp.join(work_dir, 'best_*.pth'))
        if (m := _BEST.match(osp.basename(p))) and zipfile.is_zipfile(p)]
    best = [b for b in best if not committed or b[0] <= int(committed[1])]
    if best:
        return max(best)[1]
    if last is None:
        raise UserInputError(f'{work_dir} holds no checkpoint.')
    return last_checkpoint(work_dir)  # inside work_dir, never the original's


def summarize_run(work_dir):
    """The numbers a results table needs, all from the run's logs.

    The best epoch is the first with the highest val top-1; images/s is
    per process, data loading included; a resume with other precision flags
    shows each, e.g. ``fp32 -> amp bfloat16``.
    """
    train, val = read_log_entries(work_dir)
    if not val:
        raise UserInputError(f'{work_dir} logged no validation epoch.')
    best_epoch = max(val, key=lambda e: (val[e]['accuracy/top1'], -e))
    best = val[best_epoch]
    times = [e['time'] for e in train if 'time' in e]
    configs = [c for f in log_folders(work_dir) if (c := read_config_data(
        osp.join(f, 'vis_data', 'config.json')))]  # oldest first
    batch_size = configs[-1].train_dataloader.batch_size if configs else None
    labels = [label for label, _ in groupby(map(precision_label, configs))]
    return {
        'val_acc': best['accuracy/top1'],
        'train_acc': best.get('train_accuracy/top1'),
        'train_images': best.get('train_images'),  # TrainAccuracyHook's
        'macro_f1': best.get('single-label/f1-score'),
        'best_epoch': best_epoch,
        'epochs': max(val),
        'batch_size': batch_size,
        'precision': ' -> '.join(labels) or None,
        'img_per_s': (batch_size * len(times) / sum(times)
                      if times and batch_size else None),
    }
