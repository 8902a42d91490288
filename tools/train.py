"""Train a classifier from a config: ``python tools/train.py CONFIG``.

Flags follow mmpretrain's tools/train.py, plus ``--pretrained``,
``--from-scratch``, ``--data-root``, ``--data-folder``, ``--early-stop``,
``--vis-backend`` and ``--force``.
"""
import argparse

from mmengine.dist import is_main_process

from custom_modules.apis.checkpoint_fit import ALLOW_FLAG
from custom_modules.apis.config import add_runner_args
from custom_modules.apis.training import train, train_summary
from custom_modules.utils.cli import run_cli


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
    parser.add_argument('--no-validate', action='store_true',
                        help='skip validation during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr linearly with the total batch size')
    parser.add_argument('--no-pin-memory', action='store_true',
                        help='do not pin dataloader memory (pinning only '
                        'helps copies to a GPU)')
    parser.add_argument('--no-persistent-workers', action='store_true',
                        help='restart dataloader workers every epoch')
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument(
        '--pretrained', metavar='PATH',
        help='local pretrained checkpoint to use instead of the config\'s URL '
        '(for offline machines)')
    weights.add_argument(
        '--from-scratch', action='store_true',
        help='train from random weights, ignoring the pretrained checkpoint')
    parser.add_argument('--force', action='store_true',
                        help='start over in a work dir that holds a run, '
                        'deleting its checkpoints and logs')
    parser.add_argument(
        '--skip-bad-images', action='store_true',
        help='log and skip a training image that cannot be loaded, instead '
        'of stopping (the default; validation images always stop)')
    parser.add_argument(ALLOW_FLAG, action='store_true',
                        help='start from a load_from checkpoint that does not '
                        'fill every backbone weight of the config\'s model')
    parser.add_argument(
        '--data-folder', metavar='PATH',
        help='train on this class-per-folder tree: it is checked and split '
        '(seeded, byte-identical copies kept together) into WORK_DIR/data; '
        'the folder itself is not touched')
    parser.add_argument('--split', default='8:1:1',
                        help='with --data-folder: train:val[:test] ratios '
                        '(default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0,
                        help='with --data-folder: the split\'s shuffle seed '
                        '(default: %(default)s; the training seed is '
                        'randomness.seed)')
    parser.add_argument(
        '--on-problem', choices=['stop', 'exclude'], default='exclude',
        help='with --data-folder: leave out (listing them) corrupt files, '
        'non-images and photos filed under two classes, or stop on them '
        '(default: %(default)s)')
    parser.add_argument(
        '--early-stop', type=int, metavar='PATIENCE',
        help='stop when the metric that picks the best checkpoint has not '
        'improved for PATIENCE validations (default: the config\'s '
        'early_stop_patience, None: never)')
    add_runner_args(parser)
    return parser.parse_args(argv)


def main(argv=None):
    runner = train(**vars(parse_args(argv)))
    if is_main_process():
        print(train_summary(runner))
    return runner


if __name__ == '__main__':
    run_cli(main)
