"""Images/s, latency and accuracy of PyTorch and ONNX Runtime fp32/int8 on the CPU.

``python tools/deploy/benchmark_onnx.py [CONFIG] [--batch-sizes 1 32]
[--checkpoint CKPT --data-root DIR]``; code:
:mod:`custom_modules.apis.benchmark.onnx`."""
import argparse
import os.path as osp

from custom_modules.apis.benchmark.onnx import benchmark_onnx, table
from custom_modules.apis.config import load_config
from custom_modules.utils.cli import run_cli
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.paths import ROOT


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add = parser.add_argument
    config = 'configs/resnet101_freeze2_fixed.py'
    add('config', nargs='?', default=osp.join(ROOT, config), help=f'default: {config}')
    add('--batch-sizes', type=int, nargs='+', default=[1, 32],
        help='p50/p99 latency is at the smallest')
    add('--seconds', type=float, default=3.0,
        help='timed seconds per measurement (after a warm-up)')
    add('--threads', type=int, help="CPU threads for all (default: torch's)")
    add('--checkpoint', help='trained weights (default: random; speed does not '
        'depend on them)')
    add('--data-root', help='annotation folder (train.txt, test.txt): with '
        '--checkpoint, int8 is calibrated on training images and every backend\'s '
        'test accuracy is measured')
    add('--calibration-images', type=int, default=300,
        help='training images int8 calibrates on (default: %(default)s)')
    add('--test-images', type=int, default=0, help='0: the whole test split')
    args = parser.parse_args(argv)
    if min(args.batch_sizes) < 1 or args.seconds <= 0:
        raise UserInputError('--batch-sizes must be >= 1 and --seconds > 0.')
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config)
    rows, threads, size = benchmark_onnx(
        cfg, args.batch_sizes, args.seconds, args.threads, args.checkpoint,
        args.data_root, args.calibration_images, args.test_images)
    print('\n'.join(table(rows, threads, size, args.config, args.checkpoint)))
    return rows


if __name__ == '__main__':
    run_cli(main)
