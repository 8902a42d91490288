"""Draw a synthetic 5-class flower photo set, one folder per class.

    python tools/dataset/make_synthetic_flowers.py data/synthetic_flowers
"""
import argparse

from custom_modules.datasets.synthetic_flowers import CLASSES, make_dataset
from custom_modules.utils.cli import run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_dir', help='folder to write class folders into')
    parser.add_argument('--per-class', type=int, default=80,
                        help='images per class (default: %(default)s)')
    parser.add_argument('--size', type=int, default=96, help='image side (px)')
    parser.add_argument('--seed', type=int, default=0,
                        help='random seed (default: %(default)s)')
    parser.add_argument('--force', action='store_true',
                        help='write into a non-empty out_dir')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    make_dataset(**vars(args))
    print(f'wrote {args.per_class * len(CLASSES)} images to {args.out_dir}')
    return 0


if __name__ == '__main__':
    run_cli(main)
