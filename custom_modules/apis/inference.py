"""Classify image files with a trained checkpoint (``tools/infer.py``).

Runs mmpretrain's ImageClassificationInferencer in batches with the config's
test pipeline; class names come from the checkpoint (or ``classes``). Given
an exported ``.onnx`` model instead of CONFIG CHECKPOINT, it runs
:class:`.deploy.onnx_classifier.OnnxClassifier`, and neither torch nor
mmengine is imported (so only onnxruntime, numpy and Pillow are needed).
"""
import argparse
import csv
import glob
import json
import os
import os.path as osp
import sys

from .config import load_config
from .errors import UserInputError
from .outputs import atomic_write, check_new

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff',
                    '.webp', '.ppm', '.pgm')


def collect_images(inputs):
    """Expand files, folders and globs into a sorted, de-duplicated list."""
    found = []
    for item in inputs:
        if osp.isdir(item):
            found += [osp.join(folder, f)
                      for folder, _, files in os.walk(item) for f in files
                      if f.lower().endswith(IMAGE_EXTENSIONS)]
        elif osp.isfile(item):
            found.append(item)
        else:
            matches = [m for m in glob.glob(item, recursive=True)
                       if osp.isfile(m)]
            if not matches:
                raise UserInputError(
                    f'{item}: no such file or folder, and no file matches it '
                    'as a pattern.')
            found += matches
    images = sorted(set(found))
    if not images:
        raise UserInputError(f'no image ({", ".join(IMAGE_EXTENSIONS)}) '
                             f'found in {" ".join(inputs)}.')
    return images


def build_inferencer(config, checkpoint, device=None, classes=None,
                     cfg_options=None):
    if not osp.isfile(checkpoint):
        raise UserInputError(f'checkpoint {checkpoint} does not exist.')
    cfg = load_config(config, cfg_options)
    import torch

    from .pretrained import train_from_scratch
    train_from_scratch(cfg)  # every weight comes from the checkpoint
    from mmpretrain.apis import ImageClassificationInferencer
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    return ImageClassificationInferencer(cfg, pretrained=checkpoint,
                                         device=device, classes=classes)


def predict(inferencer, images, topk=3, batch_size=16):
    """``[{'path', 'predictions': [{'class', 'label', 'score'}...]}]``."""
    import torch
    classes = inferencer.classes
    results = []
    for path, result in zip(images, inferencer(images,
                                               batch_size=batch_size)):
        scores = torch.as_tensor(result['pred_scores'])
        values, labels = scores.topk(min(topk, scores.numel()))
        results.append({'path': path, 'predictions': [
            {'class': classes[int(i)] if classes else str(int(i)),
             'label': int(i), 'score': float(v)}
            for v, i in zip(values, labels)]})
    return results


def write_results(results, out, force=False):
    if out.endswith('.json'):
        atomic_write(out, lambda f: json.dump(results, f, indent=2), force)
    elif out.endswith('.csv'):
        k = len(results[0]['predictions'])

        def write(f):
            writer = csv.writer(f)
            writer.writerow(['path'] + [c for i in range(1, k + 1)
                                        for c in (f'class_{i}', f'score_{i}')])
            for r in results:
                writer.writerow([r['path']] + [
                    v for p in r['predictions']
                    for v in (p['class'], f'{p["score"]:.6f}')])

        atomic_write(out, write, force)
    else:
        raise UserInputError(f'--out {out}: use a .csv or .json file name.')


def add_common_args(parser):
    parser.add_argument('inputs', nargs='+',
                        help='image files, folders or glob patterns')
    parser.add_argument('--topk', type=int, default=3)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--out', help='write results to a .csv or .json')
    parser.add_argument('--force', action='store_true',
                        help='replace an existing --out file')


def parse_args(argv):
    onnx = bool(argv) and argv[0].endswith('.onnx')
    parser = argparse.ArgumentParser(
        description='Classify images with a trained checkpoint, or with an '
        'exported .onnx model (no torch needed): infer.py MODEL.onnx '
        'INPUTS...')
    if onnx:
        parser.add_argument('model', help='exported .onnx model')
        add_common_args(parser)
        args = parser.parse_args(argv)
        args.config = args.classes = None
        return args
    from mmengine.config import DictAction

    parser.add_argument('config')
    parser.add_argument('checkpoint')
    add_common_args(parser)
    parser.add_argument('--device', help='cpu, cuda, cuda:1 ... (default: '
                        'cuda when available)')
    parser.add_argument('--classes', help='classes.txt, if the checkpoint '
                        'has no class names')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='the overrides the checkpoint was trained with, '
                        'e.g. a smaller image size')
    args = parser.parse_args(argv)
    args.model = None
    return args


def predict_onnx(model, images, topk=3, batch_size=16):
    """:func:`predict`'s results from an exported model, torch-free."""
    from .deploy.onnx_classifier import (
        ImageFileError,
        ModelFileError,
        OnnxClassifier,
    )
    if not osp.isfile(model):
        raise UserInputError(f'model {model} does not exist.')
    try:
        classifier = OnnxClassifier(model)
        results = classifier.classify(images, topk, batch_size)
    except (ModelFileError, ImageFileError) as err:
        raise UserInputError(str(err)) from err
    return [{'path': path, 'predictions': r['predictions']}
            for path, r in zip(images, results)]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.topk < 1:
        raise UserInputError(f'--topk {args.topk}: must be at least 1.')
    if args.out:
        check_new(args.out, args.force)
    classes = None
    if args.classes:
        with open(args.classes, encoding='utf-8') as f:
            classes = [line.strip() for line in f if line.strip()]
    images = collect_images(args.inputs)
    if args.model:
        results = predict_onnx(args.model, images, args.topk,
                               args.batch_size)
    else:
        inferencer = build_inferencer(args.config, args.checkpoint,
                                      args.device, classes, args.cfg_options)
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
