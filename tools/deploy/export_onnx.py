"""Export a checkpoint to ONNX, checked against PyTorch on 16 photos.

``python tools/deploy/export_onnx.py CONFIG CHECKPOINT [--out model.onnx] [--int8
[--data-root DIR]]``; see docs/deploy.md. Code: :mod:`custom_modules.apis.deploy`.
"""
import argparse

from custom_modules.apis.deploy.export import export_checked
from custom_modules.utils.cli import add_cfg_options, add_force, run_cli
from custom_modules.utils.fileio import read_classes


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Export a checkpoint to ONNX and check it against PyTorch.')
    add = parser.add_argument
    add('config', help='config file, e.g. configs/resnet101_freeze2_mix.py')
    add('checkpoint', help='the trained checkpoint (.pth)')
    add('--out', help='the .onnx file (default: the checkpoint\'s path with .onnx)')
    add('--classes', help='classes.txt, if the checkpoint has no class names')
    add('--photos', help='folder of images for the check (default: '
        '../shared/datasets/flower_dataset, else generated images)')
    add('--check-count', type=int, default=16, help='photos in the check, spread '
        'over the folder (default: %(default)s; 0: every photo)')
    add_force(parser, 'an existing --out file')
    add('--no-calibration', action='store_true', help='leave out <checkpoint>.'
        'calibration.json (its temperature and threshold are embedded otherwise)')
    add('--int8', action='store_true', help='also write <out>.int8.onnx: static '
        'int8 quantization calibrated on training images, then top-1 agreement and '
        'accuracy against fp32 on the test split')
    add('--data-root', help='the annotation folder (train.txt, test.txt) for --int8 '
        '(default: the config\'s)')
    add('--calibration-images', type=int, default=300,
        help='training images --int8 calibrates on (default: %(default)s)')
    add('--test-images', type=int, default=0,
        help='test images --int8 is checked on (default: 0, all)')
    add_cfg_options(parser, help='the overrides the checkpoint was trained with')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    return export_checked(
        args.config, args.checkpoint, args.out,
        args.classes and read_classes(args.classes), args.photos, args.check_count,
        not args.no_calibration, args.force, args.cfg_options, args.int8,
        args.data_root, args.calibration_images, args.test_images)


if __name__ == '__main__':
    run_cli(main)
