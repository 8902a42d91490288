"""Images/s of ONNX Runtime against PyTorch eager on the CPU
(``tools/deploy/benchmark_onnx.py``): the same network (normalisation and softmax
included), random batch and number of threads. Weights do not change the speed, so
the model is randomly initialised (nothing is downloaded)."""
import os.path as osp

import numpy as np
import onnxruntime as ort
import torch
from mmpretrain.apis import get_model

from custom_modules.engine.pretrained import train_from_scratch

from ..deploy.export import deployable, preprocess_recipe, to_onnx
from .timing import HEADER, RULE, median_seconds, row


def benchmark_onnx(cfg, batch_sizes=(1, 16), seconds=3.0, threads=None):
    """Time PyTorch eager and ONNX Runtime on random batches.

    Args:
        cfg (Config): the model's config; its pretrained weights are dropped.
        seconds (float): timed seconds per measurement, after a warm-up.
        threads (int, optional): CPU threads for both; default: torch's.

    Returns:
        tuple[list[dict], int]: ``{'batch', 'torch', 'onnxruntime'}`` (images/s)
        per batch size, and the number of threads.
    """
    threads = threads or torch.get_num_threads()
    torch.set_num_threads(threads)
    train_from_scratch(cfg)
    recipe = preprocess_recipe(cfg)
    model = get_model(cfg, device='cpu').eval()
    classes = [str(i) for i in range(cfg.model.head.num_classes)]
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(to_onnx(model, recipe, classes), options,
                                   providers=['CPUExecutionProvider'])
    eager = deployable(model)
    size, rows = recipe['crop_size'], []
    for batch in batch_sizes:
        images = np.random.default_rng(0).uniform(
            0, 255, (batch, 3, size, size)).astype(np.float32)
        tensor = torch.from_numpy(images)
        with torch.no_grad():
            torch_s = median_seconds(lambda x=tensor: eager(x), seconds, threads)
        ort_s = median_seconds(lambda x=images: session.run(None, {'images': x}),
                               seconds, threads)
        rows.append({'batch': batch, 'torch': batch / torch_s,
                     'onnxruntime': batch / ort_s})
    return rows, threads


def table(rows, threads, size, config):
    """A title line, then the rows in the columns of docs/benchmark_cpu.md, to paste
    there: one per engine and batch size, ratio = speed over PyTorch eager's."""
    lines = [f'{osp.basename(config)}, {size} px, CPU, {threads} thread(s), random '
             'weights; rows for docs/benchmark_cpu.md (the figures vary with the '
             'machine load):', HEADER, RULE]
    note = (f'{size} px, {threads} thread(s), random weights; ratio: speed-up over '
            'PyTorch eager')
    engines = {'torch': f'PyTorch {torch.__version__} eager',
               'onnxruntime': f'ONNX Runtime {ort.__version__}'}
    for r in rows:
        for key, name in engines.items():
            lines.append(row(f'inference: {name}', 'fp32', r['batch'],
                             r['batch'] / r[key], ratio=r[key] / r['torch'], note=note))
    return lines
