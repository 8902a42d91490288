"""Classify image files with a trained checkpoint (``tools/infer.py``).

Runs mmpretrain's ImageClassificationInferencer in batches with the config's
test pipeline; class names come from the checkpoint (or ``classes``). With a
``<checkpoint>.calibration.json`` (``tools/analysis/calibrate.py``), scores
are temperature-scaled and a photo whose top score is below the stored
threshold is answered "unknown".
"""
import argparse
import csv
import glob
import json
import os.path as osp

from .calibration import read_calibration
from .config import load_config
from .errors import UserInputError
from .outputs import atomic_write, check_new
from .pretrained import train_from_scratch

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff',
                    '.webp', '.ppm', '.pgm')


def collect_images(inputs):
    """Expand files, folders and globs into a sorted, de-duplicated list."""
    found = []
    for item in inputs:
        if osp.isdir(item):
            from mmengine.fileio import list_dir_or_file
            found += [osp.join(item, f) for f in list_dir_or_file(
                item, list_dir=False, recursive=True,
                suffix=IMAGE_EXTENSIONS + tuple(
                    e.upper() for e in IMAGE_EXTENSIONS))]
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
    train_from_scratch(cfg)  # every weight comes from the checkpoint
    import torch
    from mmpretrain.apis import ImageClassificationInferencer
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    return ImageClassificationInferencer(cfg, pretrained=checkpoint,
                                         device=device, classes=classes)


def predict(inferencer, images, topk=3, batch_size=16, temperature=1.0,
            threshold=None):
    """``[{'path', 'unknown', 'predictions': [{'class', 'label', 'score'}...]}]``;
    ``unknown`` when the top (scaled) score is below ``threshold``."""
    import torch

    from custom_modules.evaluation.calibration import apply_temperature
    classes = inferencer.classes
    results = []
    for path, result in zip(images, inferencer(images,
                                               batch_size=batch_size)):
        scores = apply_temperature(
            torch.as_tensor(result['pred_scores']).view(1, -1),
            temperature)[0]
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
        k = len(results[0]['predictions'])

        def write(f):
            writer = csv.writer(f)
            writer.writerow(['path'] + [c for i in range(1, k + 1)
                                        for c in (f'class_{i}', f'score_{i}')]
                            + ['unknown'])
            for r in results:
                writer.writerow([r['path']] + [
                    v for p in r['predictions']
                    for v in (p['class'], f'{p["score"]:.6f}')]
                    + [int(r['unknown'])])

        atomic_write(out, write, force)
    else:
        raise UserInputError(f'--out {out}: use a .csv or .json file name.')


def main(argv=None):
    from mmengine.config import DictAction

    parser = argparse.ArgumentParser(
        description='Classify images with a trained checkpoint.')
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
    parser.add_argument('--no-calibration', action='store_true',
                        help='ignore <checkpoint>.calibration.json: raw '
                        'scores, never "unknown"')
    parser.add_argument('--threshold', type=float,
                        help='answer "unknown" below this top score '
                        '(default: the calibration file\'s)')
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
    if args.threshold is not None and not 0 <= args.threshold <= 1:
        raise UserInputError(f'--threshold {args.threshold}: a score in '
                             '[0, 1].')
    calibration = None if args.no_calibration else read_calibration(
        args.checkpoint)
    temperature = calibration['temperature'] if calibration else 1.0
    threshold = args.threshold if args.threshold is not None else (
        calibration or {}).get('threshold')
    if calibration:
        print(f'calibration: temperature {temperature:.4f} from '
              f'{calibration["path"]}')
    if threshold is not None:
        print(f'answering "unknown" below a top score of {threshold:.4f}')
    inferencer = build_inferencer(args.config, args.checkpoint, args.device,
                                  classes, args.cfg_options)
    results = predict(inferencer, images, args.topk, args.batch_size,
                      temperature, threshold)
    width = max(len(r['path']) for r in results)
    for r in results:
        print(f'{r["path"]:<{width}}  ' + ('unknown  ' if r['unknown']
                                           else '') + '  '.join(
            f'{p["class"]} {100 * p["score"]:5.1f}%'
            for p in r['predictions']))
    if args.out:
        write_results(results, args.out, args.force)
        print(f'wrote {args.out}')
    return results

