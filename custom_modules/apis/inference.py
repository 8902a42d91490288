"""Classify image files with a trained checkpoint (``tools/infer.py``).

Runs mmpretrain's ImageClassificationInferencer in batches with the config's
test pipeline; class names come from the checkpoint (or ``classes``). With a
``<checkpoint>.calibration.json`` (``tools/analysis/calibrate.py``), scores
are temperature-scaled and a photo whose top score is below the stored
threshold is answered "unknown". Given an exported ``.onnx`` model instead
of CONFIG CHECKPOINT, it runs :class:`.deploy.onnx_classifier.OnnxClassifier`
with the calibration embedded at export, and neither torch nor mmengine is
imported (so only onnxruntime, numpy and Pillow are needed).
"""
import argparse
import csv
import glob
import json
import os
import os.path as osp
import sys

from custom_modules.evaluation.calibration import (
    add_calibration_args,
    check_threshold,
    read_calibration,
)
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import IMAGE_EXTENSIONS, atomic_write, check_new

from .checkpoint_fit import ALLOW_FLAG, check_fit
from .config import load_config
from .precision import add_speed_args, amp_dtype


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
                     cfg_options=None, allow_partial=False, amp=False,
                     dtype=None, channels_last=False):
    """mmpretrain's inferencer; ``amp``, ``dtype`` and ``channels_last``
    as the tools' ``--amp``, ``--amp-dtype`` and ``--channels-last``."""
    if not osp.isfile(checkpoint):
        raise UserInputError(f'checkpoint {checkpoint} does not exist.')
    cfg = load_config(config, cfg_options)
    from custom_modules.engine.pretrained import train_from_scratch
    train_from_scratch(cfg)  # every weight comes from the checkpoint
    check_fit(cfg.model, checkpoint, config, ('backbone', 'head'),
              allow_partial)
    import torch
    from mmpretrain.apis import ImageClassificationInferencer
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if amp:
        from .amp_inferencer import AmpImageClassificationInferencer
        inferencer = AmpImageClassificationInferencer(
            cfg, pretrained=checkpoint, device=device, classes=classes,
            amp_dtype=getattr(torch, amp_dtype(dtype,
                                               torch.device(device).type)))
    else:
        inferencer = ImageClassificationInferencer(
            cfg, pretrained=checkpoint, device=device, classes=classes)
    if channels_last:
        from custom_modules.engine.hooks import to_channels_last
        to_channels_last(inferencer.model)
    return inferencer


def read_image(path):
    """The image as the inferencer reads it (mmcv, BGR), or the reason it
    cannot be read."""
    from mmcv import imread
    try:
        img = imread(path)
    except Exception as exc:  # decoders raise many types
        return None, f'cannot read image ({type(exc).__name__}: {exc})'
    if img is None:
        return None, 'cannot decode image (corrupt, truncated or not an image)'
    return img, None


def predict(inferencer, images, topk=3, batch_size=16, temperature=1.0,
            threshold=None):
    """``[{'path', 'unknown', 'predictions': [{'class', 'label', 'score'}...]}]``;
    ``unknown`` when the top (scaled) score is below ``threshold``.

    Each file is decoded once, here; one that cannot be decoded gets
    ``'error'`` and no predictions, and the others are still classified.
    """
    import torch

    from custom_modules.evaluation.calibration import apply_temperature
    classes = inferencer.classes
    results = []
    for start in range(0, len(images), batch_size):
        batch = [(path, *read_image(path))
                 for path in images[start:start + batch_size]]
        good = [(path, img) for path, img, error in batch if error is None]
        outputs = dict(zip([p for p, _ in good], inferencer(
            [img for _, img in good], batch_size=batch_size))) if good else {}
        for path, _, error in batch:
            if error:
                results.append({'path': path, 'error': error,
                                'unknown': False, 'predictions': []})
                continue
            scores = torch.as_tensor(apply_temperature(
                outputs[path]['pred_scores'], temperature))
            values, labels = scores.topk(min(topk, scores.numel()))
            results.append({'path': path, 'unknown': bool(
                threshold is not None and float(values[0]) < threshold),
                'predictions': [
                {'class': classes[int(i)] if classes else str(int(i)),
                 'label': int(i), 'score': float(v)}
                for v, i in zip(values, labels)]})
    return results


def write_results(results, out, force=False):
    if out.endswith('.json'):
        atomic_write(out, lambda f: json.dump(results, f, indent=2), force)
    elif out.endswith('.csv'):
        k = max(len(r['predictions']) for r in results)
        errors = any('error' in r for r in results)

        def write(f):
            writer = csv.writer(f)
            writer.writerow(['path'] + [c for i in range(1, k + 1)
                                        for c in (f'class_{i}', f'score_{i}')]
                            + ['unknown'] + (['error'] if errors else []))
            for r in results:
                row = [v for p in r['predictions']
                       for v in (p['class'], f'{p["score"]:.6f}')]
                row += [''] * (2 * k - len(row))
                writer.writerow([r['path'], *row, int(r['unknown'])] + (
                    [r.get('error', '')] if errors else []))

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
    add_calibration_args(parser)


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
        return check_threshold(args)
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
    parser.add_argument(ALLOW_FLAG, action='store_true',
                        help='use a checkpoint that does not fill every '
                        'backbone and head weight of the config\'s model')
    add_speed_args(parser)
    args = parser.parse_args(argv)
    args.model = None
    if args.amp_dtype and not args.amp:
        raise UserInputError('--amp-dtype needs --amp.')
    return check_threshold(args)


def report_calibration(temperature, source, threshold):
    """Say which calibration the scores get (``source``: None if none)."""
    if source:
        print(f'calibration: temperature {temperature:.4f} from {source}')
    if threshold is not None:
        print(f'answering "unknown" below a top score of {threshold:.4f}')


def predict_onnx(model, images, topk=3, batch_size=16, calibration=True,
                 threshold=None):
    """:func:`predict`'s results from an exported model, torch-free, with
    its embedded calibration unless ``calibration`` is False."""
    from .deploy.onnx_classifier import (
        ImageFileError,
        ModelFileError,
        OnnxClassifier,
    )
    if not osp.isfile(model):
        raise UserInputError(f'model {model} does not exist.')
    try:
        classifier = OnnxClassifier(model, calibration=calibration,
                                    threshold=threshold)
        report_calibration(classifier.temperature, classifier.calibrated
                           and f'{model} (embedded)', classifier.threshold)
        results = classifier.classify(images, topk, batch_size)
    except (ModelFileError, ImageFileError) as err:
        raise UserInputError(str(err)) from err
    return [{'path': path, 'unknown': r['unknown'],
             'predictions': r['predictions']}
            for path, r in zip(images, results)]


def predict_checkpoint(args, images, classes):
    """:func:`predict` with the checkpoint's calibration, if it has one."""
    calibration = None if args.no_calibration else read_calibration(
        args.checkpoint)
    temperature = calibration['temperature'] if calibration else 1.0
    threshold = args.threshold if args.threshold is not None else (
        calibration or {}).get('threshold')
    report_calibration(temperature, calibration and calibration['path'],
                       threshold)
    inferencer = build_inferencer(args.config, args.checkpoint, args.device,
                                  classes, args.cfg_options,
                                  args.allow_partial_checkpoint, args.amp,
                                  args.amp_dtype, args.channels_last)
    return predict(inferencer, images, args.topk, args.batch_size,
                   temperature, threshold)


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
                               args.batch_size, not args.no_calibration,
                               args.threshold)
    else:
        results = predict_checkpoint(args, images, classes)
    failed = [r for r in results if 'error' in r]
    if len(failed) == len(results):
        raise UserInputError('no image could be read: ' + '; '.join(
            f'{r["path"]}: {r["error"]}' for r in failed[:5]))
    width = max(len(r['path']) for r in results)
    for r in results:
        print(f'{r["path"]:<{width}}  ' + (f'ERROR {r["error"]}' if 'error'
                                            in r else ('unknown  ' if r[
                                                'unknown'] else '') + '  '.join(
            f'{p["class"]} {100 * p["score"]:5.1f}%'
            for p in r['predictions'])))
    for r in failed:
        print(f'warning: skipped {r["path"]}: {r["error"]}', file=sys.stderr)
    if args.out:
        write_results(results, args.out, args.force)
        print(f'wrote {args.out}')
    return results
