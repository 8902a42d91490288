"""Classify images with a trained checkpoint: top-k classes with scores.

    python tools/infer.py CONFIG CHECKPOINT photo.jpg folder/ 'more/*.jpg' \\
        [--topk 3] [--out predictions.csv|.json] [--device cpu]

Inputs may be image files, folders (searched recursively) or glob patterns.
"""
import argparse

from custom_modules.apis.cli import run_cli
from custom_modules.apis.errors import UserInputError
from custom_modules.apis.inference import (
    build_inferencer,
    collect_images,
    predict,
    write_results,
)
from custom_modules.apis.outputs import check_new


def main(argv=None):
    from mmengine.config import DictAction


    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('inputs', nargs='+',
                        help='image files, folders or glob patterns')
    parser.add_argument('--topk', type=int, default=3)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--device', help='cpu, cuda, cuda:1 ... (default: '
                        'cuda when available)')
    parser.add_argument('--classes', help='classes.txt, if the checkpoint '
                        'has no class names')
    parser.add_argument('--out', help='write results to a .csv or .json')
    parser.add_argument('--force', action='store_true',
                        help='replace an existing --out file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='the overrides the checkpoint was trained with, '
                        'e.g. a smaller image size')
    args = parser.parse_args(argv)
    if args.topk < 1:
        raise UserInputError(f'--topk {args.topk}: must be at least 1.')
    if args.out:
        check_new(args.out, args.force)
    classes = None
    if args.classes:
        with open(args.classes, encoding='utf-8') as f:
            classes = [line.strip() for line in f if line.strip()]
    images = collect_images(args.inputs)
    inferencer = build_inferencer(args.config, args.checkpoint, args.device,
                                  classes, args.cfg_options)
    results = predict(inferencer, images, args.topk, args.batch_size)
    width = max(len(r['path']) for r in results)
    for r in results:
        print(f'{r["path"]:<{width}}  ' + '  '.join(
            f'{p["class"]} {100 * p["score"]:5.1f}%'
            for p in r['predictions']))
    if args.out:
        write_results(results, args.out, args.force)
        print(f'wrote {args.out}')
    return results


if __name__ == '__main__':
    run_cli(main)
