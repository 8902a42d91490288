"""The whole workflow offline in a few minutes, on generated flower images.

    python tools/demo.py [--out DIR] [--per-class N] [--epochs N]

Draws a synthetic flower set, writes its annotation files, trains
configs/demo/resnet101_freeze3_fixed.py, tests it and draws the plots, all
into a new folder (default: work_dirs/demo/<timestamp>/).
"""
import argparse
import os.path as osp
import time

from custom_modules.apis.cli import run_cli
from custom_modules.apis.config import ROOT
from custom_modules.apis.demo import run_demo


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', help='output folder (default: '
                        'work_dirs/demo/<timestamp>)')
    parser.add_argument('--per-class', type=int, default=100,
                        help='images drawn per class (default: %(default)s)')
    parser.add_argument('--epochs', type=int,
                        help='training epochs (default: the config\'s, 8)')
    args = parser.parse_args(argv)
    out = args.out or osp.join(ROOT, 'work_dirs', 'demo',
                               time.strftime('%Y%m%d_%H%M%S'))
    run_demo(out, args.per_class, args.epochs)
    return 0


if __name__ == '__main__':
    run_cli(main)
