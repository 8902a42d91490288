"""The whole workflow offline in a few minutes.

    python tools/demo.py [--out DIR] [--per-class N] [--epochs N]
    python tools/demo.py --photos ../shared/datasets/flower_dataset
    python tools/demo.py --out DIR --resume   # continue an interrupted one

Trains ResNet-101 from scratch on synthetic flowers, or with ``--photos``
fine-tunes ImageNet EfficientNet-Lite0 on your class-per-folder photos; then
tests, calibrates and draws everything into one new folder.
"""
import argparse
import os.path as osp
import time

from custom_modules.apis.demo import run_demo
from custom_modules.utils.cli import run_cli
from custom_modules.utils.paths import ROOT


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', help='output folder (default: '
                        'work_dirs/demo/<timestamp>)')
    parser.add_argument('--per-class', type=int, default=100,
                        help='images drawn per class (default: %(default)s)')
    parser.add_argument('--epochs', type=int,
                        help='training epochs (default: the config\'s)')
    parser.add_argument('--photos', metavar='FOLDER',
                        help='fine-tune on these photos (one sub-folder per '
                        'class) instead of generated ones')
    parser.add_argument('--resume', action='store_true',
                        help='continue the interrupted demo in --out: skip '
                        'finished steps, resume training from its last '
                        'checkpoint')
    parser.add_argument('--force', action='store_true',
                        help='remove the earlier demo in --out and start over')
    args = parser.parse_args(argv)
    if (args.resume or args.force) and not args.out:
        parser.error('--resume and --force need --out (the demo\'s folder)')
    if args.resume and args.force:
        parser.error('--resume or --force, not both')
    return args


def main(argv=None):
    args = parse_args(argv)
    out = args.out or osp.join(ROOT, 'work_dirs', 'demo',
                               time.strftime('%Y%m%d_%H%M%S'))
    run_demo(out, args.per_class, args.epochs, args.photos, args.resume,
             args.force)
    return 0


if __name__ == '__main__':
    run_cli(main)
