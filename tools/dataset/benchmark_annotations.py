"""Files per second of make_annotations on a generated tree.

``python tools/dataset/benchmark_annotations.py [--files 20000]``: one worker against
every core; code: :mod:`custom_modules.apis.benchmark.annotation_speed`."""
import argparse

from custom_modules.apis.benchmark.annotation_speed import annotation_speed
from custom_modules.utils.cli import run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--files', type=int, default=20000,
                        help='synthetic images to scan (default: %(default)s)')
    parser.add_argument('--size', type=int, default=64, help='image side')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    annotation_speed(args.files, args.size)


if __name__ == '__main__':
    run_cli(main)
