"""Images/s of ONNX Runtime against PyTorch eager on the CPU
(``tools/deploy/benchmark_onnx.py``).

Both run the same network (normalisation and softmax included) on the same random
batch with the same number of threads. Weights do not change the speed, so the model
is randomly initialised (nothing is downloaded). The rows have the columns of
``docs/benchmark_cpu.md``, to paste there.
"""
import numpy as np
import torch
from mmpretrain.apis import get_model

from custom_modules.engine.pretrained import train_from_scratch

from ..deploy.export import deployable, preprocess_recipe, to_onnx
from .timing import HEADER, RULE, median_seconds, row


def benchmark_onnx(cfg, batch_sizes=(1, 16), seconds=3.0, threads=None):
    """Time PyTorch eager and ONNX Runtime on random batches.

    Args:
        cfg (Config): the model's config; its pretrained weights are dropped.
        batch_sizes (Sequence[int]): the batch sizes to time.
        seconds (float): timed seconds per measurement, after a warm-up.
        threads (int, optional): CPU threads for both; default: torch's.

    Returns:
        tuple[list[dict], int]: ``{'batch', 'torch', 'onnxruntime'}`` (images/s) per
        batch size, and the number of threads.
    """
    import onnxruntime as ort  # lazy: optional, requirements/deploy.txt
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
    eager = torch.no_grad()(deployable(model))
    rows = []
    for batch in batch_sizes:
        size = recipe['crop_size']
        images = np.random.default_rng(0).uniform(
            0, 255, (batch, 3, size, size)).astype(np.float32)
        tensor = torch.from_numpy(images)
        rows.append({'batch': batch, 'torch': batch / median_seconds(
            lambda x=tensor: eager(x), seconds, threads), 'onnxruntime': batch / (
            median_seconds(lambda x=images: session.run(None, {'images': x}),
                           seconds, threads))})
    return rows, threads


def table_rows(rows, threads, size):
    """The header and a row per engine and batch size (columns of
    docs/benchmark_cpu.md); step = ms per batch, ratio = speed over eager's."""
    import onnxruntime as ort  # lazy: optional, requirements/deploy.txt
    note = (f'{size} px, {threads} thread(s), random weights; ratio: speed-up over '
            'PyTorch eager')
    lines = [HEADER, RULE]
    for r in rows:
        for what, speed in ((f'inference: PyTorch {torch.__version__} eager',
                             r['torch']),
                            (f'inference: ONNX Runtime {ort.__version__}',
                             r['onnxruntime'])):
            lines.append(row(what, 'fp32', r['batch'], r['batch'] / speed,
                             ratio=speed / r['torch'], note=note))
    return lines
