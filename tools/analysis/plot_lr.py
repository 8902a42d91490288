"""Draw the learning-rate curve a config will produce, to a PNG.

    python tools/analysis/plot_lr.py configs/resnet101_freeze2_mix.py
"""
import argparse
import os.path as osp

from custom_modules.apis.config import load_config
from custom_modules.apis.lr_curve import REAL_EPOCH_LENGTH, draw_lr_curve
from custom_modules.utils.cli import add_cfg_options, add_force, run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file whose schedule to draw')
    parser.add_argument('--out', help='PNG path (default: work_dirs/'
                        '<config name>/lr_curve.png)')
    parser.add_argument('--epoch-length', type=int,
                        help='iterations per epoch (default: from the train '
                        f'annotation file, else {REAL_EPOCH_LENGTH}, the '
                        'flower photos at batch 32)')
    add_force(parser, 'an existing PNG')
    add_cfg_options(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    name = osp.splitext(osp.basename(args.config))[0]
    out = args.out or osp.join('work_dirs', name, 'lr_curve.png')
    draw_lr_curve(cfg, out, name, args.epoch_length, args.force)
    print(f'wrote {out}')
    return 0


if __name__ == '__main__':
    run_cli(main)
