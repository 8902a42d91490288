"""Read what mmengine logged for a training run, and find its checkpoints."""
import glob
import os.path as osp
import re
import zipfile

from custom_modules.utils.errors import UserInputError

_BEST = re.compile(r'^best_.*_epoch_(\d+)\.pth$')
_EPOCH = re.compile(r'epoch_(\d+)\.pth$')


def log_folders(work_dir):
    """The run's timestamped log folders, oldest first (one per resume)."""
    return sorted(osp.dirname(osp.dirname(p)) for p in glob.glob(
        osp.join(work_dir, '*', 'vis_data', 'scalars.json')))


def read_log_entries(work_dir):
    """(train entries, {epoch: val entry}) from every ``scalars.json``.

    A resumed run logs into a new timestamped folder; later folders win for
    the same step, so the result reads as one uninterrupted run.
    """
    from mmpretrain.utils import load_json_log

    folders = log_folders(work_dir)
    if not folders:
        raise UserInputError(
            f'no */vis_data/scalars.json under {work_dir}; is it a work dir '
            'of tools/train.py?')
    train, val = {}, {}
    for folder in folders:
        log = load_json_log(osp.join(folder, 'vis_data', 'scalars.json'))
        train.update((e['step'], e) for e in log['train'])
        # Validation epochs; a standalone test logs no accuracy/top1 step.
        val.update((e['step'], e) for e in log['val']
                   if 'accuracy/top1' in e)
    return [train[k] for k in sorted(train)], dict(sorted(val.items()))


def saved_configs(work_dir):
    """The configs mmengine saved beside each log folder (one per resume),
    oldest first: what the run used, ``--cfg-options`` and flags included."""
    from mmengine.config import Config

    paths = [osp.join(folder, 'vis_data', 'config.py')
             for folder in log_folders(work_dir)]
    paths = [p for p in paths if osp.isfile(p)]
    if not paths:
        raise UserInputError(f'{work_dir} has no saved config '
                             '(<timestamp>/vis_data/config.py).')
    return [Config.fromfile(p) for p in paths]


def run_batch_size(work_dir):
    """The training batch size the run used, per process."""
    return saved_configs(work_dir)[-1].train_dataloader.batch_size


def run_precision(work_dir):
    """The run's precision and layout (:func:`.precision.precision_label`);
    a run resumed with other flags shows each, e.g. ``fp32 -> amp
    bfloat16``."""
    from .precision import precision_label
    labels = [precision_label(cfg) for cfg in saved_configs(work_dir)]
    return ' -> '.join(label for i, label in enumerate(labels)
                       if i == 0 or label != labels[i - 1])


def _last_checkpoint(work_dir):
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(marker):
        return None
    with open(marker) as f:
        return f.read().strip()


def best_checkpoint(work_dir):
    """The best checkpoint CheckpointHook kept: of the complete
    ``best_*_epoch_N.pth`` files, the one with the highest N, else the one
    ``last_checkpoint`` names.

    Complete means a whole zip archive (what ``torch.save`` writes; a kill
    mid-write leaves no central directory), and N no later than the epoch of
    the committed checkpoint: a later best belongs to a commit a kill
    interrupted, which a resume deletes.
    """
    last = _last_checkpoint(work_dir)
    committed = _EPOCH.search(last or '')
    best = [(int(m.group(1)), osp.join(work_dir, name)) for name, m in (
        (osp.basename(p), _BEST.match(osp.basename(p)))
        for p in glob.glob(osp.join(work_dir, 'best_*.pth'))) if m]
    best = [(epoch, path) for epoch, path in best
            if (not committed or epoch <= int(committed.group(1)))
            and zipfile.is_zipfile(path)]
    if best:
        return max(best)[1]
    if last is None:
        raise UserInputError(f'{work_dir} holds no checkpoint.')
    return last


def summarize_run(work_dir):
    """The numbers a results table needs, all taken from the run's logs.

    The best epoch is the first with the highest val top-1 accuracy (the one
    CheckpointHook keeps as best); train accuracy and macro F1 are read at
    that epoch. Images/s is the run's own batch size over the mean iteration
    time of training (data loading included, validation excluded), per
    process.
    """
    train, val = read_log_entries(work_dir)
    if not val:
        raise UserInputError(f'{work_dir} logged no validation epoch.')
    best_epoch = max(val, key=lambda e: (val[e]['accuracy/top1'], -e))
    best = val[best_epoch]
    times = [e['time'] for e in train if 'time' in e]
    batch_size = run_batch_size(work_dir)
    return {
        'val_acc': best['accuracy/top1'],
        'train_acc': best.get('train_accuracy/top1'),
        # How many training images TrainAccuracyHook evaluated (its subset).
        'train_images': best.get('train_images'),
        'macro_f1': best.get('single-label/f1-score'),
        'best_epoch': best_epoch,
        'epochs': max(val),
        'batch_size': batch_size,
        'precision': run_precision(work_dir),
        'img_per_s': (batch_size * len(times) / sum(times)
                      if times else None),
    }
