"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT``.

Flags follow mmpretrain's tools/test.py; ``--out`` saves every prediction
for the analysis tools, ``--data-folder`` tests on any class-per-folder tree.
"""
import argparse

from custom_modules.apis.checkpoint_fit import ALLOW_FLAG
from custom_modules.apis.config import add_runner_args
from custom_modules.apis.testing import test
from custom_modules.utils.cli import add_force, run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Evaluate a checkpoint')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the test log goes')
    parser.add_argument('--out', help='save predictions to this .json file')
    parser.add_argument('--tta', action='store_true',
                        help='average scores over the config\'s tta_pipeline')
    add_force(parser, 'an existing --out file')
    parser.add_argument(ALLOW_FLAG, action='store_true',
                        help='test a checkpoint that does not fill every '
                        'backbone and head weight of the config\'s model')
    parser.add_argument(
        '--data-folder', metavar='PATH',
        help='evaluate on every photo of this class-per-folder tree instead '
        'of the test split (checked first; its classes must be the model\'s)')
    parser.add_argument('--on-problem', choices=['stop', 'exclude'],
                        default='stop', help='with --data-folder: stop on a '
                        'corrupt or non-image file, or leave it out')
    parser.add_argument('--no-calibration', action='store_true',
                        help='ignore <checkpoint>.calibration.json')
    add_runner_args(parser)
    return parser.parse_args(argv)


def main(argv=None):
    return test(**vars(parse_args(argv)))


if __name__ == '__main__':
    run_cli(main)
