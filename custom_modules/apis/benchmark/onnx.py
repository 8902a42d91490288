"""Images/s, latency and test accuracy of the CPU inference backends
(``tools/deploy/benchmark_onnx.py``): PyTorch eager fp32 (and bf16), ONNX
Runtime and, if installed, OpenVINO, fp32 and int8, on the same network,
batches and threads. Without a checkpoint the weights are random."""
import functools
import os.path as osp
from importlib.metadata import version

import numpy as np
import torch

from ..config import set_data_root
from ..deploy.export import (
    deployable,
    export_onnx,
    input_batches,
    quantize_int8,
    split_images,
)
from ..deploy.onnx_classifier import OnnxClassifier, openvino_installed
from ..precision import cpu_supports_bf16
from .timing import time_calls

ROUNDS = 3  # timed slices per cell, interleaved over the backends


def _timings(engines, batches, size, seconds, rng):
    """{(engine, precision, batch): seconds of each call}: about ``seconds`` per
    cell, in ``ROUNDS`` slices taken in turn (a change of load hits all)."""
    images = {b: rng.uniform(0, 255, (b, 3, size, size)).astype(np.float32)
              for b in batches}
    cells = {(*key, b): functools.partial(fn, images[b])
             for key, fn in engines.items() for b in batches}
    calls = {c: max(2, int(seconds / ROUNDS / max(min(time_calls(f, 2)), 1e-5)))
             for c, f in cells.items()}
    times = {c: [] for c in cells}
    for _ in range(ROUNDS):
        for c, f in cells.items():
            times[c] += time_calls(f, calls[c])
    return times


def _backends(model, data, int8, threads):
    """{(engine, precision): fn(batch array) -> probabilities array}."""
    eager = deployable(model)

    def run_torch(x, bf16=False):
        with torch.no_grad(), torch.autocast('cpu', torch.bfloat16, enabled=bf16):
            return eager(torch.from_numpy(x))[0].float().numpy()

    name = f'PyTorch {torch.__version__} eager'
    engines = {(name, 'fp32'): run_torch}
    if cpu_supports_bf16():
        engines[name, 'bf16 autocast'] = functools.partial(run_torch, bf16=True)
    names = {'onnxruntime': 'ONNX Runtime', 'openvino': 'OpenVINO'}
    for backend in names if openvino_installed() else ['onnxruntime']:
        for precision, onnx_bytes in (('fp32', data), ('int8', int8)):
            engines[(f'{names[backend]} {version(backend)}', precision)] = \
                OnnxClassifier(onnx_bytes, threads, backend=backend).probabilities
    return engines


def benchmark_onnx(cfg, batch_sizes=(1, 32), seconds=3.0, threads=None,
                   checkpoint=None, data_root=None, calibration_count=300,
                   test_count=0):
    """Time each backend; with ``checkpoint`` and ``data_root``, also its
    test accuracy.

    Args:
        cfg (Config): the model's config.
        seconds (float): timed seconds per backend and batch.
        threads (int, optional): CPU threads for all; default: torch's.
        checkpoint (str, optional): trained weights (default: random ones).
        data_root (str, optional): the annotation folder (train.txt, test.txt).
        calibration_count, test_count (int): training images int8 calibrates on;
            test images (0: all).

    Returns:
        tuple[list[dict], int, int]: per backend ``engine``, ``precision``,
        ``speed`` ({batch: images/s}), ``p50``, ``p99`` and ``accuracy``; the
        threads; the input size.
    """
    threads = threads or torch.get_num_threads()
    torch.set_num_threads(threads)
    if data_root:
        set_data_root(cfg, data_root)
    data, recipe, _, model, _ = export_onnx(cfg, checkpoint, calibration=False)
    size = recipe['crop_size']
    rng = np.random.default_rng(0)
    test = None
    if checkpoint and data_root:
        classifier = OnnxClassifier(data)
        train, _ = split_images(cfg, 'train', calibration_count)
        int8 = quantize_int8(data, input_batches(classifier, train))
        paths, labels = split_images(cfg, 'test', test_count)
        test = list(input_batches(classifier, paths)), np.asarray(labels)
    else:
        int8 = quantize_int8(data, (rng.uniform(0, 255, (8, 3, size, size)).astype(
            np.float32) for _ in range(4)))
    engines = _backends(model, data, int8, threads)
    batches = sorted(batch_sizes)
    times = _timings(engines, batches, size, seconds, rng)
    rows = []
    for (engine, precision), fn in engines.items():
        r = {'engine': engine, 'precision': precision, 'accuracy': None,
             'speed': {b: b / np.median(times[engine, precision, b]) for b in batches}}
        r['p50'], r['p99'] = np.percentile(times[engine, precision, batches[0]],
                                           [50, 99])
        if test is not None:
            top1 = np.concatenate([fn(batch).argmax(1) for batch in test[0]])
            r['accuracy'] = float((top1 == test[1]).mean())
        rows.append(r)
    return rows, threads, size


def table(rows, threads, size, config, checkpoint=None):
    """A title line and a markdown table, one row per backend."""
    batches = sorted(rows[0]['speed'])
    small, large = batches[0], batches[-1]
    weights = osp.basename(checkpoint) if checkpoint else 'random weights'
    base = next(r for r in rows if r['engine'].startswith('ONNX Runtime')
                and r['precision'] == 'fp32')['speed'][large]
    missing = '' if any(r['engine'].startswith('OpenVINO') for r in rows) else (
        '; OpenVINO is not installed (pip install openvino adds its rows)')
    lines = [f'{osp.basename(config)}, {size} px, CPU, {threads} thread(s), '
             f'{weights} (the figures vary with the machine load){missing}:',
             '| Backend | Precision | ' + ' | '.join(
                 f'Batch {b} (img/s)' for b in batches) +
             f' | p50 / p99 at batch {small} (ms) | vs ORT fp32 at batch {large} '
             '| Test accuracy (%) |',
             '|---|---|' + '---:|' * (len(batches) + 3)]
    for r in rows:
        accuracy = '-' if r['accuracy'] is None else f'{100 * r["accuracy"]:.2f}'
        lines.append(
            f'| {r["engine"]} | {r["precision"]} | ' + ' | '.join(
                f'{r["speed"][b]:.1f}' for b in batches) +
            f' | {1000 * r["p50"]:.1f} / {1000 * r["p99"]:.1f} | '
            f'{r["speed"][large] / base:.2f}x | {accuracy} |')
    return lines
