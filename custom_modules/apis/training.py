"""What ``tools/train.py`` does between parsing its flags and training."""
import glob
import os
import os.path as osp
import re
import shutil
from pathlib import Path

from mmengine.dist import barrier, is_main_process
from mmengine.hooks import CheckpointHook, EarlyStoppingHook
from mmpretrain.registry import RUNNERS

from custom_modules.engine.pretrained import (
    resolve_pretrained,
    train_from_scratch,
    use_local_pretrained,
)
from custom_modules.utils.checkpoint import last_checkpoint
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import check_writable, write_json
from custom_modules.utils.work_dir_lock import lock_work_dir, release_work_dirs

from .checkpoint_fit import check_fit
from .class_balance import apply_class_balance
from .config import (
    RUNNER_DEFAULTS,
    config_from_args,
    fix_workers,
    options,
    set_data_root,
)
from .data_folder import split_data_folder
from .preflight import check_data, check_schedule, check_values

# What a run (its log folders: YYYYMMDD_HHMMSS) and the tools derived from
# it leave in its work dir: --force removes them all, so none outlives its
# checkpoint.
_RUN_FILES = ('*.pth', 'last_checkpoint', 'done.json', 'wall_time.json',
              'config.json', '*.calibration.json', '*_predictions.json',
              'report.html', 'grid_*.log', 'analysis', 'calibration', 'test',
              '[0-9]' * 8 + '_' + '[0-9]' * 6)


# tools/train.py's flags and their defaults (tests check they match).
TRAIN_DEFAULTS = dict(
    RUNNER_DEFAULTS, work_dir=None, resume=None, no_validate=False,
    auto_scale_lr=False, no_pin_memory=False, no_persistent_workers=False,
    pretrained=None, from_scratch=False, force=False, skip_bad_images=False,
    allow_partial_checkpoint=False, data_folder=None, split='8:1:1', seed=0,
    on_problem='exclude', early_stop=None)


def train_options(config, **flags):
    """tools/train.py's flags for ``config``, e.g.
    ``train_options('configs/x.py', work_dir='w', from_scratch=True)``."""
    return options(TRAIN_DEFAULTS, dict(config=config), **flags)


def merge_train_args(cfg, args):
    """Apply tools/train.py's flags to ``cfg`` (as mmpretrain's merge_args)."""
    if args.resume == 'auto':
        if not (osp.isfile(osp.join(cfg.work_dir, 'last_checkpoint'))
                or glob.glob(osp.join(cfg.work_dir, '*.pth'))):
            raise UserInputError(
                f'--resume: nothing to resume in {cfg.work_dir} (no '
                'last_checkpoint, no checkpoint). Start a new run without '
                '--resume, or pass --work-dir of the run to continue, or '
                '--resume CHECKPOINT.')
        cfg.resume = True
        # not mmengine's reading: a copied folder would resume the original
        cfg.load_from = last_checkpoint(cfg.work_dir)
    elif args.resume:
        if not osp.isfile(args.resume):
            raise UserInputError(f'--resume {args.resume}: no such file.')
        cfg.resume = True
        cfg.load_from = args.resume
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    for key in ('train_dataloader', 'val_dataloader'):
        if cfg.get(key):
            if args.no_pin_memory:
                cfg[key]['pin_memory'] = False
            if args.no_persistent_workers:
                cfg[key]['persistent_workers'] = False
    fix_workers(cfg)
    if args.skip_bad_images:
        dataset = cfg.train_dataloader.dataset
        if dataset.get('type') != 'AnnotatedImageFolder':
            raise UserInputError(
                '--skip-bad-images needs train_dataloader.dataset.type='
                f'AnnotatedImageFolder, the config has {dataset.get("type")}.')
        dataset.on_bad_image = 'skip'

    if args.from_scratch:
        train_from_scratch(cfg)
    elif args.pretrained:
        use_local_pretrained(cfg, args.pretrained)
    return cfg


def prepare_work_dir(work_dir, resume=False, force=False):
    """Refuse to overwrite a previous run; with ``force``, remove its files
    so they cannot mix into the new run's."""
    marker = osp.join(work_dir, 'last_checkpoint')
    # several processes: rank 0 checks and cleans for all
    if not is_main_process() or resume or not osp.exists(marker):
        return []
    if not force:
        raise UserInputError(
            f'{work_dir} already holds a run (see {marker}). Continue it '
            'with --resume, start a new one with --work-dir DIR, or '
            'replace it with --force.')
    removed = sorted(p for pattern in _RUN_FILES
                     for p in glob.glob(osp.join(work_dir, pattern)))
    for path in removed:
        if osp.isdir(path) and not osp.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    return removed


def _first_metric(evaluators):
    """``save_best='auto'``'s key when known before the run (Accuracy's)."""
    first = evaluators[0] if isinstance(evaluators, (list, tuple)) else \
        evaluators
    if (first or {}).get('type') in ('Accuracy', 'mmpretrain.Accuracy'):
        return f'accuracy/top{(first.get("topk") or (1, ))[0]}'
    return None


def add_early_stopping(cfg, patience=None):
    """Add mmengine's EarlyStoppingHook on the metric that picks the best
    checkpoint.

    Args:
        cfg (Config): The config to train.
        patience (int, optional): Default: ``early_stop_patience``.

    Returns:
        dict | None: The hook's config, added to ``cfg.custom_hooks``.
    """
    patience = cfg.get('early_stop_patience') if patience is None else patience
    if not patience:
        return None
    if isinstance(patience, bool) or not isinstance(patience, int) \
            or patience < 1:
        raise UserInputError(f'early stopping patience {patience!r}: give a '
                             'whole number of validations >= 1.')
    if not cfg.get('val_dataloader'):
        raise UserInputError('--early-stop watches the validation metric; '
                             'it cannot be used with --no-validate.')
    checkpoint = (cfg.get('default_hooks') or {}).get('checkpoint') or {}
    monitor, rule = ((v or [None])[0] if isinstance(v, (list, tuple)) else v
                     for v in (checkpoint.get('save_best'), checkpoint.get('rule')))
    if monitor == 'auto':
        monitor = _first_metric(cfg.get('val_evaluator'))
    if not monitor:
        raise UserInputError(
            'early stopping watches the metric that picks the best '
            'checkpoint; name it, e.g. --cfg-options '
            'default_hooks.checkpoint.save_best=accuracy/top1')
    hook = dict(type='EarlyStoppingHook', monitor=monitor, rule=rule,
                patience=patience)
    cfg.custom_hooks = [*(h for h in cfg.get('custom_hooks', [])
                          if h.get('type') != 'EarlyStoppingHook'), hook]
    cfg.early_stop_patience = patience
    return hook


def build_train_config(args):
    """The config to run: loaded, the flags applied, everything checked that
    can be before the Runner starts (``--data-folder`` is split once the
    work dir is the run's)."""
    if args.data_folder and args.data_root:
        raise UserInputError('give --data-folder (a class-per-folder tree) '
                             'or --data-root (annotation files), not both.')
    cfg = merge_train_args(config_from_args(args), args)
    check_writable(cfg.work_dir, '--work-dir', folder=True)
    splits = ('train', 'val') if cfg.get('val_dataloader') else ('train', )
    check_values(cfg, splits)
    check_schedule(cfg)
    add_early_stopping(cfg, args.early_stop)
    if not args.data_folder:
        check_data(cfg, splits)
    resolve_pretrained(cfg)
    apply_class_balance(cfg)
    if cfg.get('load_from') and not cfg.get('resume'):
        check_fit(cfg.model, cfg.load_from, args.config, ('backbone', ),
                  args.allow_partial_checkpoint)
    if int(os.environ.get('RANK', 0)) == 0:  # one lock per run, not rank
        lock_work_dir(cfg.work_dir)
    prepare_work_dir(cfg.work_dir, bool(args.resume), args.force)
    if args.data_folder:
        if is_main_process():
            split_data_folder(cfg, args.data_folder, args.split, args.seed,
                              args.on_problem)
        barrier()  # the other processes read what rank 0 wrote
        set_data_root(cfg, osp.join(cfg.work_dir, 'data'))
        check_data(cfg, splits)
    return cfg


def run(cfg):
    """Build ``cfg``'s Runner (``runner_type``, e.g. QuietRunner) and train;
    the resolved config is saved as data (``config.json`` in the work dir
    and ``vis_data``): tools read these, never execute a run's ``.py``.

    Returns:
        mmengine.runner.Runner: the runner, after training.
    """
    runner = RUNNERS.build(cfg)
    if is_main_process():
        for path in (osp.join(runner.work_dir, 'config.json'),
                     osp.join(runner.log_dir, 'vis_data', 'config.json')):
            write_json(path, runner.cfg.to_dict())
    runner.train()
    return runner


def train(config, **flags):
    """Train as ``python tools/train.py CONFIG [flags]`` does.

    Args:
        config (str): The config file.
        **flags: tools/train.py's flags by ``dest``, e.g. ``work_dir='w'``.

    Returns:
        mmengine.runner.Runner: the runner, after training.
    """
    try:
        return run(build_train_config(train_options(config, **flags)))
    finally:
        release_work_dirs()


def _find_hook(runner, kind):
    return next((h for h in runner.hooks if isinstance(h, kind)), None)


def _early_stop_reason(hook):
    if hook.wait_count >= hook.patience:
        times = 'validation' + ('s' if hook.wait_count > 1 else '')
        return (f'{hook.monitor} did not improve on {hook.best_score:.2f} by '
                f'more than {abs(hook.min_delta)} in {hook.wait_count} '
                f'{times} (patience {hook.patience})')
    return f'{hook.monitor} stopped being finite or reached its threshold'


def train_summary(runner):
    """A run's closing lines: best (or last) checkpoint, epochs, why it
    stopped early, where its results are."""
    hub = runner.message_hub
    saver = _find_hook(runner, CheckpointHook)
    keys = list(getattr(saver, 'key_indicators', None) or [])
    suffix = f'_{keys[0]}' if len(keys) > 1 else ''
    best = hub.get_info(f'best_ckpt{suffix}')
    if best:
        epoch = re.search(r'epoch_(\d+)', osp.basename(best))
        at = f', epoch {epoch.group(1)}' if epoch else ''
        name = keys[0] if keys and keys[0] != 'auto' else 'score'
        lines = [f'best checkpoint: {best} ({name} '
                 f'{hub.get_info(f"best_score{suffix}"):.2f}{at})']
    else:
        marker = Path(runner.work_dir, 'last_checkpoint')
        last = marker.read_text(encoding='utf-8').strip() \
            if marker.is_file() else None
        lines = [f'last checkpoint: {last or "none saved"} (no best '
                 'checkpoint kept)']
    epochs = f'epochs run: {runner.epoch} of {runner.max_epochs}'
    stopper = _find_hook(runner, EarlyStoppingHook)
    if stopper is not None and runner.train_loop.stop_training:
        epochs += (f'; stopped early after epoch {runner.epoch}: '
                   f'{_early_stop_reason(stopper)}')
    log = osp.join(runner.log_dir, f'{runner.timestamp}.log')
    return '\n'.join([*lines, epochs,
                      f'results saved to {runner.work_dir} (log: {log})'])
