"""Plot a run's training curves (loss, accuracy, learning rate) to a PNG.

    python tools/analysis/plot_curves.py work_dirs/resnet101_freeze2_mix
"""
import argparse

from custom_modules.apis.curves import plot_curves
from custom_modules.utils.cli import add_force, run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir', help='a training run\'s work dir')
    parser.add_argument('--out', help='PNG path (default: '
                        '<work_dir>/training_curves.png)')
    add_force(parser, 'an existing PNG')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    print(f'wrote {plot_curves(args.work_dir, args.out, args.force)}')
    return 0


if __name__ == '__main__':
    run_cli(main)
