"""What ``tools/train.py`` does between parsing its flags and training."""
import glob
import os
import os.path as osp
import re
import shutil

from mmengine.dist import is_main_process
from mmpretrain.registry import RUNNERS

from custom_modules.engine.pretrained import (
    resolve_pretrained,
    train_from_scratch,
    use_local_pretrained,
)
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.work_dir_lock import lock_work_dir, release_work_dirs

from .checkpoint_fit import check_fit
from .class_balance import apply_class_balance
from .config import RUNNER_DEFAULTS, config_from_args, fix_workers, options
from .preflight import check_data, check_schedule, check_values

# What a run leaves in its work dir: mmengine's timestamped log folders,
# checkpoints and marker, and the grid's records.
_LOG_FOLDER = re.compile(r'^\d{8}_\d{6}$')
_RUN_FILES = ('*.pth', 'last_checkpoint', 'done.json', 'wall_time.json')


# tools/train.py's flags and their defaults (tests check they match).
TRAIN_DEFAULTS = dict(
    RUNNER_DEFAULTS, work_dir=None, resume=None, no_validate=False,
    auto_scale_lr=False, no_pin_memory=False, no_persistent_workers=False,
    pretrained=None, from_scratch=False, force=False, skip_bad_images=False,
    allow_partial_checkpoint=False)


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
        cfg.load_from = None
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


def previous_run_files(work_dir):
    """Checkpoints, markers and log folders an earlier run left here."""
    if not osp.isdir(work_dir):
        return []
    found = [p for pattern in _RUN_FILES
             for p in glob.glob(osp.join(work_dir, pattern))]
    found += [osp.join(work_dir, name) for name in os.listdir(work_dir)
              if _LOG_FOLDER.match(name)
              and osp.isdir(osp.join(work_dir, name))]
    return sorted(found)


def prepare_work_dir(work_dir, resume=False, force=False):
    """Never overwrite a previous run without being asked; with ``force``,
    remove its checkpoints and logs so they cannot mix into the new run's
    curves, table or best checkpoint."""
    marker = osp.join(work_dir, 'last_checkpoint')
    if not is_main_process():
        return []  # several processes: rank 0 checks and cleans for all
    if resume or not osp.exists(marker):
        return []
    if not force:
        raise UserInputError(
            f'{work_dir} already holds a run (see {marker}). Continue it '
            'with --resume, start a new one with --work-dir DIR, or '
            'replace it with --force.')
    removed = previous_run_files(work_dir)
    for path in removed:
        if osp.isdir(path) and not osp.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    return removed


def build_train_config(args):
    """Load the config, apply the flags, and check everything that can be
    checked before the Runner starts; returns the config to run."""
    cfg = merge_train_args(config_from_args(args), args)
    check_values(cfg, ('train', 'val') if cfg.get('val_dataloader') else
                 ('train', ))
    check_schedule(cfg)
    check_data(cfg, ('train', 'val') if cfg.get('val_dataloader') else
               ('train', ))
    resolve_pretrained(cfg)
    apply_class_balance(cfg)
    if cfg.get('load_from') and not cfg.get('resume'):
        check_fit(cfg.model, cfg.load_from, args.config, ('backbone', ),
                  args.allow_partial_checkpoint)
    if int(os.environ.get('RANK', 0)) == 0:  # one lock per run, not rank
        lock_work_dir(cfg.work_dir)
    prepare_work_dir(cfg.work_dir, bool(args.resume), args.force)
    return cfg


def run(cfg):
    """Build ``cfg``'s Runner (``runner_type``, e.g. QuietRunner) and train.

    Returns:
        mmengine.runner.Runner: the runner, after training.
    """
    runner = RUNNERS.build(cfg)
    runner.train()
    return runner


def train(config, **flags):
    """Train as ``python tools/train.py CONFIG [flags]`` does.

    Args:
        config (str): The config file.
        **flags: tools/train.py's flags by their ``dest`` names, e.g.
            ``work_dir='w', from_scratch=True, cfg_options={...}``.

    Returns:
        mmengine.runner.Runner: the runner, after training.
    """
    try:
        return run(build_train_config(train_options(config, **flags)))
    finally:
        release_work_dirs()
