"""Grad-CAM maps of a model's worst mistakes and most confident hits.

    python tools/test.py CONFIG CKPT --out preds.json
    python tools/visualization/vis_cam.py CONFIG CKPT --preds preds.json \\
        [--out cams.png] [--worst 8 --per-class 2 --target-layers NAME]
    python tools/visualization/vis_cam.py CONFIG CKPT --img photo.jpg \\
        [--out cam.png] [--target CLASS]

Without --out, the PNG goes next to the checkpoint; see docs/cams.md.
"""
import argparse
import os.path as osp
import sys

from custom_modules.apis.model import load_model
from custom_modules.evaluation.predictions import load_predictions, read_classes
from custom_modules.utils.cli import add_cfg_options, add_force, run_cli
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import check_new, save_figure
from custom_modules.visualization.cam import draw_cams, image_figure, num_classes


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Grad-CAM maps of the worst mistakes and the most '
        'confident correct predictions (--preds), or of one photo (--img), '
        'drawn over the images as the model sees them.')
    parser.add_argument('config', help='config file, e.g. '
                        'configs/resnet101_freeze2_mix.py')
    parser.add_argument('checkpoint', help='the trained checkpoint (.pth)')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--preds', help='.json from tools/test.py --out')
    source.add_argument('--img', help='one photo to explain')
    parser.add_argument('--out', help='the PNG to write (default: next to '
                        'the checkpoint, CKPT_STEM.cams.png with --preds, '
                        'CKPT_STEM.cam_IMG_STEM.png with --img)')
    parser.add_argument('--worst', type=int, default=8,
                        help='mistakes to show, most confident first')
    parser.add_argument('--per-class', type=int, default=2,
                        help='correct predictions to show per class')
    parser.add_argument('--target', help='with --img: the class (index or '
                        'name) to explain (default: the predicted one)')
    parser.add_argument('--target-layers', nargs='+',
                        help='module names to take the map from, e.g. '
                        'backbone.layer4.2 (default: chosen per backbone)')
    parser.add_argument('--classes', help='classes.txt, if the checkpoint '
                        'has no class names')
    parser.add_argument('--device', help='cpu, cuda, ... (default: cuda '
                        'when available)')
    add_cfg_options(parser, help='the overrides the checkpoint was trained '
                    'with')
    add_force(parser, 'an existing --out file')
    args = parser.parse_args(argv)
    if not args.out:
        stem = osp.splitext(args.checkpoint)[0]
        args.out = (f'{stem}.cam_{osp.splitext(osp.basename(args.img))[0]}'
                    '.png' if args.img else f'{stem}.cams.png')
    if not args.out.lower().endswith('.png'):
        raise UserInputError(f'--out {args.out}: name a .png file.')
    if args.worst < 0 or args.per_class < 0 or not (args.worst
                                                    or args.per_class):
        raise UserInputError(
            f'--worst {args.worst} --per-class {args.per_class}: counts of '
            'images, at least one of them above 0.')
    if args.target is not None and not args.img:
        raise UserInputError('--target goes with --img (with --preds each '
                             'map explains the predicted class).')
    if args.img and not osp.isfile(args.img):
        raise UserInputError(f'--img {args.img}: no such file.')
    check_new(args.out, args.force)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.preds:
        load_predictions(args.preds)  # a bad file fails before the model
    model = load_model(args.config, args.checkpoint, args.device,
                       cfg_options=args.cfg_options)
    if args.classes:
        model._dataset_meta = dict(
            getattr(model, '_dataset_meta', None) or {},
            classes=read_classes(args.classes, num_classes(model)))
    if args.img:
        fig, pred = image_figure(model, args.img, args.target,
                                 args.target_layers)
        save_figure(fig, args.out, args.force)
        print(f'predicted {pred["class"] or pred["label"]} '
              f'({100 * pred["score"]:.1f}%); map of class {pred["target"]}')
    else:
        _, wrong, right, missing = draw_cams(
            model, args.preds, args.out, args.worst, args.per_class,
            args.target_layers, force=args.force)
        for path in missing:
            print(f'warning: {path} not found; left out', file=sys.stderr)
        print(f'{wrong} mistakes and {right} correct predictions selected')
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    run_cli(main)
