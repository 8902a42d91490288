"""Read what mmengine's LocalVisBackend logged for a training run."""
import glob
import json
import os.path as osp

from .errors import UserInputError


def read_log_entries(work_dir):
    """(train entries, {epoch: val entry}) from every ``scalars.json``.

    A resumed run logs into a new timestamped folder; later folders win for
    the same step, so the result reads as one uninterrupted run.
    """
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                      'scalars.json')))
    if not files:
        raise UserInputError(
            f'no */vis_data/scalars.json under {work_dir}; is it a work dir '
            'of tools/train.py?')
    train, val = {}, {}
    for path in files:
        with open(path) as f:
            for line in f:
                entry = json.loads(line)
                if 'lr' in entry:  # training iterations
                    train[entry['step']] = entry
                elif 'accuracy/top1' in entry:  # one validation per epoch
                    val[entry['step']] = entry
    return [train[k] for k in sorted(train)], dict(sorted(val.items()))


def best_checkpoint(work_dir):
    """The checkpoint CheckpointHook kept as best, else the last one."""
    best = sorted(glob.glob(osp.join(work_dir, 'best_*.pth')))
    if best:
        return best[-1]
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(marker):
        raise UserInputError(f'{work_dir} holds no checkpoint.')
    with open(marker) as f:
        return f.read().strip()


def summarize_run(work_dir, batch_size):
    """The numbers a results table needs, all taken from the run's logs.

    The best epoch is the first with the highest val top-1 accuracy (the one
    CheckpointHook keeps as best); train accuracy and macro F1 are read at
    that epoch. Images/s is ``batch_size`` over the mean iteration time of
    training (data loading included, validation excluded), per process.
    """
    train, val = read_log_entries(work_dir)
    if not val:
        raise UserInputError(f'{work_dir} logged no validation epoch.')
    best_epoch = max(val, key=lambda e: (val[e]['accuracy/top1'], -e))
    best = val[best_epoch]
    times = [e['time'] for e in train if 'time' in e]
    return {
        'val_acc': best['accuracy/top1'],
        'train_acc': best.get('train_accuracy/top1'),
        'macro_f1': best.get('single-label/f1-score'),
        'best_epoch': best_epoch,
        'epochs': max(val),
        'img_per_s': batch_size / (sum(times) / len(times)) if times else None,
    }
