"""Images/s of ONNX Runtime against PyTorch eager on the CPU
(``tools/deploy/benchmark_onnx.py``).

Both run the same network (normalisation and softmax included) on the same
random batch with the same number of threads; weights do not change the
speed, so the model is randomly initialised (its config's pretrained
weights are dropped, nothing is downloaded). The table's rows have the
columns of ``docs/benchmark_cpu.md`` (``tools/analysis/benchmark.py``), to
paste there.
"""
import argparse
import os.path as osp
import time

import numpy as np

from custom_modules.utils.errors import UserInputError

from ..config import ROOT, load_config
from ..deploy.export import deployable, preprocess_recipe, to_onnx
from .torch_speed import HEADER, RULE, row

DEFAULT_CONFIG = osp.join(ROOT, 'configs', 'resnet101_freeze2_fixed.py')


def images_per_second(run, batch, seconds):
    """Calls ``run()`` (one batch) for about ``seconds`` after a warm-up."""
    run()
    count, start = 0, time.perf_counter()
    while count < 2 or time.perf_counter() - start < seconds:
        run()
        count += 1
    return batch * count / (time.perf_counter() - start)


def benchmark(cfg, batch_sizes=(1, 16), seconds=3.0, threads=None):
    """``[{'batch', 'torch', 'onnxruntime'}]`` in images/s."""
    import onnxruntime as ort
    import torch
    from mmpretrain.apis import get_model

    from custom_modules.engine.pretrained import train_from_scratch

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
    wrapped = deployable(model)
    size = recipe['crop_size']
    rows = []
    for batch in batch_sizes:
        images = np.random.default_rng(0).uniform(
            0, 255, (batch, 3, size, size)).astype(np.float32)
        tensor = torch.from_numpy(images)
        with torch.no_grad():
            eager = images_per_second(lambda x=tensor: wrapped(x), batch,
                                      seconds)
        rows.append({
            'batch': batch, 'torch': eager,
            'onnxruntime': images_per_second(
                lambda x=images: session.run(None, {'images': x}), batch,
                seconds)})
    return rows, threads


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', nargs='?', default=DEFAULT_CONFIG,
                        help='default: configs/resnet101_freeze2_fixed.py')
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 16])
    parser.add_argument('--seconds', type=float, default=3.0,
                        help='timed seconds per measurement (after one '
                        'warm-up batch)')
    parser.add_argument('--threads', type=int,
                        help='CPU threads for both (default: torch\'s)')
    args = parser.parse_args(argv)
    if min(args.batch_sizes) < 1 or args.seconds <= 0:
        raise UserInputError('--batch-sizes must be >= 1 and --seconds > 0.')
    cfg = load_config(args.config)
    rows, threads = benchmark(cfg, args.batch_sizes, args.seconds,
                              args.threads)
    size = preprocess_recipe(cfg)['crop_size']
    print(f'{osp.basename(args.config)}, {size} px, CPU, {threads} '
          'thread(s), random weights; rows for docs/benchmark_cpu.md (the '
          'figures vary with the machine load):')
    print('\n'.join(table_rows(rows, threads, size)))
    return rows


def table_rows(rows, threads, size):
    """The header and one row per engine and batch size, in the columns of
    docs/benchmark_cpu.md; step = ms per batch, ratio = over eager."""
    import onnxruntime as ort
    import torch
    note = f'{size} px, {threads} thread(s), random weights; ratio: ' \
        'speed-up over PyTorch eager'
    lines = [HEADER, RULE]
    for r in rows:
        for what, speed in ((f'inference: PyTorch {torch.__version__} eager',
                             r['torch']),
                            (f'inference: ONNX Runtime {ort.__version__}',
                             r['onnxruntime'])):
            lines.append(row(what, 'fp32', r['batch'], r['batch'] / speed,
                             ratio=speed / r['torch'], note=note))
    return lines
