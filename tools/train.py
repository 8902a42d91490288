"""Train a classifier from a config: ``python tools/train.py CONFIG``.

Flags follow mmpretrain's tools/train.py; on top of them ``--pretrained``,
``--from-scratch`` and ``--data-root`` cover offline use and data moves, and
every input is checked before the Runner starts.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from custom_modules.errors import UserInputError  # noqa: E402
from custom_modules.preflight import check_data, check_schedule  # noqa: E402
from custom_modules.pretrained import (  # noqa: E402
    resolve_pretrained,
    train_from_scratch,
    use_local_pretrained,
)
from custom_modules.setup_config import (  # noqa: E402
    add_runner_args,
    config_from_args,
    fix_workers,
    run_cli,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a classifier')
    parser.add_argument('config', help='config file, e.g. '
                        'configs/resnet101_freeze2_mix.py')
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint, or, with no value, from the '
        'latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='mixed-precision training (GPU)')
    parser.add_argument('--no-validate', action='store_true',
                        help='skip validation during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr linearly with the total batch size')
    parser.add_argument('--no-pin-memory', action='store_true')
    parser.add_argument('--no-persistent-workers', action='store_true')
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument(
        '--pretrained', metavar='PATH',
        help='local pretrained checkpoint to use instead of the config\'s URL '
        '(for offline machines)')
    weights.add_argument(
        '--from-scratch', action='store_true',
        help='train from random weights, ignoring the pretrained checkpoint')
    parser.add_argument('--force', action='store_true',
                        help='start over in a work dir that has checkpoints')
    add_runner_args(parser)
    return parser.parse_args(argv)


def build_config(args):
    cfg = config_from_args(args)

    if args.amp:
        if not torch.cuda.is_available():
            raise UserInputError(
                '--amp needs a CUDA GPU and none is visible; drop --amp to '
                'train in full precision on the CPU.')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
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

    if args.from_scratch:
        train_from_scratch(cfg)
    elif args.pretrained:
        use_local_pretrained(cfg, args.pretrained)
    return cfg


def check_work_dir(cfg, args):
    """Never overwrite a previous run's checkpoints without being asked."""
    marker = osp.join(cfg.work_dir, 'last_checkpoint')
    if osp.exists(marker) and not (args.resume or args.force):
        raise UserInputError(
            f'{cfg.work_dir} already holds a run (see {marker}). Continue it '
            'with --resume, start a new one with --work-dir DIR, or '
            'overwrite it with --force.')


def main(argv=None):
    args = parse_args(argv)
    cfg = build_config(args)
    check_work_dir(cfg, args)
    check_schedule(cfg)
    check_data(cfg, ('train', 'val') if cfg.get('val_dataloader') else
               ('train', ))
    resolve_pretrained(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


if __name__ == '__main__':
    run_cli(main)
