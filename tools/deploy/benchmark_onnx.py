"""Images/s of ONNX Runtime vs PyTorch eager on the CPU.

``python tools/deploy/benchmark_onnx.py [CONFIG] [--batch-sizes 1 16]``; code:
:mod:`custom_modules.apis.benchmark.onnx`."""
import argparse
import os.path as osp

from custom_modules.apis.benchmark.onnx import benchmark_onnx, table
from custom_modules.apis.config import load_config
from custom_modules.apis.deploy.export import preprocess_recipe
from custom_modules.utils.cli import run_cli
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.paths import ROOT


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add = parser.add_argument
    config = 'configs/resnet101_freeze2_fixed.py'
    add('config', nargs='?', default=osp.join(ROOT, config), help=f'default: {config}')
    add('--batch-sizes', type=int, nargs='+', default=[1, 16])
    add('--seconds', type=float, default=3.0,
        help='timed seconds per measurement (after a warm-up)')
    add('--threads', type=int, help="CPU threads for both (default: torch's)")
    args = parser.parse_args(argv)
    if min(args.batch_sizes) < 1 or args.seconds <= 0:
        raise UserInputError('--batch-sizes must be >= 1 and --seconds > 0.')
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config)
    rows, threads = benchmark_onnx(cfg, args.batch_sizes, args.seconds, args.threads)
    size = preprocess_recipe(cfg)['crop_size']
    print('\n'.join(table(rows, threads, size, args.config)))
    return rows


if __name__ == '__main__':
    run_cli(main)
