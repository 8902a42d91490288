"""Fit temperature scaling and a reject threshold on val, after training.

    python tools/analysis/calibrate.py CONFIG CHECKPOINT [--coverage 0.95]
        [--reject-score energy|max_softmax]

Writes ``<checkpoint>.calibration.json``, which test.py, infer.py, serve.py
and deploy/export_onnx.py apply; see docs/evaluation.md.
"""
import argparse
import os.path as osp

from custom_modules.apis.calibrate import calibrate
from custom_modules.apis.config import add_runner_args, config_from_args
from custom_modules.evaluation.calibration import REJECT_SCORES
from custom_modules.utils.cli import run_cli
from custom_modules.utils.errors import UserInputError


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Fit temperature scaling and a reject threshold on val')
    parser.add_argument('config', help='config file, e.g. '
                        'configs/resnet101_freeze2_mix.py')
    parser.add_argument('checkpoint', help='the trained checkpoint (.pth)')
    parser.add_argument('--coverage', type=float, default=0.95,
                        help='share of val photos the reject option answers '
                        '(default: %(default)s)')
    parser.add_argument('--reject-score', choices=REJECT_SCORES,
                        default=REJECT_SCORES[0],
                        help='what the reject threshold applies to: energy, '
                        'T * logsumexp(logits / T), or the top scaled '
                        'probability (default: %(default)s; see '
                        'docs/robustness.md)')
    parser.add_argument('--work-dir', help='plots and val predictions '
                        '(default: <checkpoint folder>/calibration)')
    parser.add_argument('--no-ood', action='store_true',
                        help='skip the skimage.data out-of-distribution check')
    parser.add_argument('--force', action='store_true',
                        help='replace an existing <checkpoint>.calibration.json')
    add_runner_args(parser)
    args = parser.parse_args(argv)
    if not 0 < args.coverage <= 1:
        raise UserInputError(f'--coverage {args.coverage}: give the share '
                             'of val photos to answer, in (0, 1], e.g. 0.95')
    args.work_dir = args.work_dir or osp.join(osp.dirname(args.checkpoint),
                                              'calibration')
    return args


def main(argv=None):
    args = parse_args(argv)
    calibrate(config_from_args(args), args.checkpoint, args.coverage,
              not args.no_ood, args.force, args.cfg_options,
              args.reject_score)
    return 0


if __name__ == '__main__':
    run_cli(main)
