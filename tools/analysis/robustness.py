"""How a checkpoint holds up on photos unlike its test split:
``python tools/analysis/robustness.py CONFIG CHECKPOINT``.

Prints and writes a table (accuracy, ECE and three reject scores, clean
and per shift x severity) and a plot (:mod:`custom_modules.apis.robustness`,
docs/robustness.md).
"""
import argparse

from custom_modules.apis.robustness import robustness
from custom_modules.datasets.transforms import SHIFTS
from custom_modules.utils.cli import (
    add_cfg_options,
    add_data_root,
    add_force,
    run_cli,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Accuracy, calibration and the reject option under '
        'realistic image shifts')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--shifts', nargs='+', default=list(SHIFTS),
                        choices=list(SHIFTS), metavar='SHIFT',
                        help='shifts to apply (default: all): '
                        + ' '.join(SHIFTS))
    parser.add_argument('--severities', nargs='+', type=int,
                        default=[1, 3, 5], help='severities, each 1 to 5 '
                        '(default: 1 3 5)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the shifts\' per-image random draws')
    parser.add_argument('--data-folder', metavar='PATH',
                        help='test on this class-per-folder tree instead '
                        'of the test split')
    add_data_root(parser)
    parser.add_argument('--out-dir', help='where results.md, results.csv and '
                        'the plot go (default: <checkpoint folder>/'
                        'robustness)')
    parser.add_argument('--batch-size', type=int,
                        help='default: the test dataloader\'s')
    parser.add_argument('--device', help='default: cuda if available')
    parser.add_argument('--no-calibration', action='store_true',
                        help='ignore <checkpoint>.calibration.json')
    parser.add_argument('--low-res-policy', action='store_true',
                        help='resize photos whose short side is below the '
                        'crop size whole to the crop size instead of '
                        'resize-and-centre-crop (LowResPolicy)')
    parser.add_argument('--fit-images', type=int, default=500,
                        help='training photos the Mahalanobis reject score '
                        'is fitted on (default: %(default)s; 0: skip it)')
    parser.add_argument('--backend', choices=['onnxruntime', 'pytorch'],
                        help='runs the model (default: onnxruntime on the '
                        'CPU, about 4x less CPU per photo; pytorch on GPU)')
    add_force(parser, 'existing results in --out-dir')
    add_cfg_options(parser, 'test_dataloader.num_workers=0')
    return parser.parse_args(argv)


def main(argv=None):
    args = vars(parse_args(argv))
    return robustness(calibration=not args.pop('no_calibration'), **args)


if __name__ == '__main__':
    run_cli(main)
