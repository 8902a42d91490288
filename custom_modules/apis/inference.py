"""What ``tools/infer.py`` does with its files and answers: inputs (files,
folders, globs, URLs), the checkpoint's calibration (temperature, "unknown"
below the reject threshold), the ``.onnx`` path (torch- and mmengine-free),
the printed and written results.
"""
import contextlib
import csv
import glob
import os
import os.path as osp
import shutil
import sys
import tempfile
import urllib.error
import urllib.request

from custom_modules.evaluation.calibration import (
    LEGACY_SCORE,
    read_calibration,
    threshold_override,
)
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import (
    IMAGE_EXTENSIONS,
    atomic_write,
    csv_safe_row,
    write_json,
)

URL_SCHEMES = ('http://', 'https://')
MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024
DOWNLOAD_TIMEOUT_S = 30


def is_url(item):
    return isinstance(item, str) and item.lower().startswith(URL_SCHEMES)


def download(url, folder, max_bytes=MAX_DOWNLOAD_BYTES,
             timeout=DOWNLOAD_TIMEOUT_S):
    """Save an http(s) image under ``folder``; returns the file's path.

    Raises:
        UserInputError: naming the URL, when it cannot be fetched or is
            over ``max_bytes``.
    """
    suffix = osp.splitext(url.split('?')[0].split('#')[0])[1][:8]
    path = osp.join(folder, f'url_{len(os.listdir(folder))}{suffix}')
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, \
                open(path, 'wb') as f:
            size = int(response.headers.get('Content-Length') or 0)
            if size > max_bytes:  # refused before a byte is read
                raise UserInputError(f'{url}: {size:,} bytes is over the '
                                     f'download limit of {max_bytes:,}.')
            data = response.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise UserInputError(f'{url}: over the download limit of '
                                     f'{max_bytes:,} bytes.')
            f.write(data)
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise UserInputError(f'{url}: cannot download it ({err}).') from err
    return path


@contextlib.contextmanager
def local_files(sources):
    """``sources`` with every URL replaced by a downloaded temporary file
    (removed on exit); other items are passed through unchanged."""
    folder = tempfile.mkdtemp(prefix='infer_urls_')
    try:
        yield [download(s, folder) if is_url(s) else s for s in sources]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def collect_images(inputs):
    """Expand files, folders and globs into a sorted, de-duplicated list;
    http(s) URLs are kept as they are (see :func:`local_files`)."""
    found = []
    for item in inputs:
        if is_url(item):
            found.append(item)
        elif osp.isdir(item):
            found += [p for folder, _, files in os.walk(item) for f in files
                      if f.lower().endswith(IMAGE_EXTENSIONS)
                      # isfile: regular files only (a FIFO would block)
                      and osp.isfile(p := osp.join(folder, f))]
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


def write_results(results, out, force=False):
    if out.endswith('.json'):
        write_json(out, results, force)
    elif out.endswith('.csv'):
        k = max(len(r['predictions']) for r in results)
        errors = any('error' in r for r in results)

        def write(f):
            writer = csv.writer(f)
            writer.writerow(['path'] + [c for i in range(1, k + 1)
                                        for c in (f'class_{i}', f'score_{i}')]
                            + ['unknown', 'reject_score', 'reject_value']
                            + (['error'] if errors else []))
            for r in results:
                row = [v for p in r['predictions']
                       for v in (p['class'], f'{p["score"]:.6f}')]
                row += [''] * (2 * k - len(row))
                value = r.get('reject_value')
                row += [int(r['unknown']), r.get('reject_score', ''),
                        '' if value is None else f'{value:.6f}']
                writer.writerow(csv_safe_row([r['path'], *row] + (
                    [r.get('error', '')] if errors else [])))

        atomic_write(out, write, force)
    else:
        raise UserInputError(f'--out {out}: use a .csv or .json file name.')


def checkpoint_calibration(checkpoint, use=True, threshold=None):
    """``(temperature, threshold, score, file)`` of ``checkpoint``'s
    calibration (without one, or not ``use``: 1.0 and no threshold); a given
    ``threshold`` replaces the stored one."""
    stored = read_calibration(checkpoint) if use else None
    score = stored['score'] if stored else LEGACY_SCORE
    threshold = threshold_override(threshold, score) if threshold is not None \
        else (stored or {}).get('threshold')
    return (stored['temperature'] if stored else 1.0, threshold, score,
            stored and stored['path'])


def report_calibration(temperature, source, threshold, score=LEGACY_SCORE):
    """Say which calibration the scores get (``source``: None if none)."""
    if source:
        print(f'calibration: temperature {temperature:.4f} from {source}')
    if threshold is not None:
        print(f'answering "unknown" where the {score} reject score is below '
              f'{threshold:.4f}')


def predict_onnx(model, images, topk=3, batch_size=16, calibration=True,
                 threshold=None, backend='auto'):
    """:func:`predict`'s results from an exported model, torch-free, with
    its embedded calibration unless ``calibration`` is False, run by ``backend``
    (see ``OnnxClassifier``); an image it refuses (unreadable, too large, too
    thin) gets ``'error'``."""
    # lazy: onnxruntime is needed for .onnx models only
    from .deploy.onnx_classifier import BackendError, ModelFileError, OnnxClassifier
    if not osp.isfile(model):
        raise UserInputError(f'model {model} does not exist.')
    try:
        classifier = OnnxClassifier(model, calibration=calibration,
                                    threshold=threshold, backend=backend)
        print(f'backend: {classifier.backend} ({model})')
        report_calibration(classifier.temperature, classifier.calibrated
                           and f'{model} (embedded)', classifier.threshold,
                           classifier.score)
        results = classifier.classify(images, topk, batch_size)
    except (ModelFileError, BackendError) as err:
        raise UserInputError(str(err)) from err
    return [{'path': path, 'error': r['error'], 'unknown': False,
             'predictions': []} if 'error' in r else
            {'path': path, **{k: v for k, v in r.items() if k != 'seconds'}}
            for path, r in zip(images, results)]


def predict_checkpoint(args, images, classes):
    """:func:`predict` with the checkpoint's calibration, if it has one."""
    temperature, threshold, score, source = checkpoint_calibration(
        args.checkpoint, not args.no_calibration, args.threshold)
    report_calibration(temperature, source, threshold, score)
    # lazy: the .onnx path never imports torch or mmengine
    from .model import build_inferencer, predict
    inferencer = build_inferencer(args.config, args.checkpoint, args.device,
                                  classes, args.cfg_options,
                                  args.allow_partial_checkpoint, args.amp,
                                  args.amp_dtype, args.channels_last)
    return predict(inferencer, images, args.topk, args.batch_size,
                   temperature, threshold, score)


def print_results(results):
    """Print one line per image (its top classes, "unknown" or the error);
    warn about skipped files on stderr.

    Raises:
        UserInputError: when no image at all could be read.
    """
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
