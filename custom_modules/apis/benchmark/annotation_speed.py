"""Files/s of ``make_annotations`` (``tools/dataset/benchmark_annotations.py``)."""
import os
import os.path as osp
import tempfile
import time

from custom_modules.datasets.annotations import make_annotations
from custom_modules.datasets.synthetic_flowers import CLASSES, make_dataset

from .timing import environment


def annotation_speed(files=20000, size=64, cores=None):
    """Time make_annotations on ``files`` synthetic JPEGs of ``size`` px with
    one worker and with ``cores`` (default: all), printing the rates.

    Returns:
        dict[int, float]: files/s per number of workers.
    """
    cores = cores or os.cpu_count() or 1
    print('\n'.join(environment()))
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        src, start = osp.join(tmp, 'tree'), time.perf_counter()
        make_dataset(src, per_class=files // len(CLASSES), size=size)
        total = sum(len(names) for _, _, names in os.walk(src))
        print(f'generated {total} JPEGs of {size} px in '
              f'{time.perf_counter() - start:.1f} s')
        for workers in sorted({1, cores}):
            start = time.perf_counter()
            report = make_annotations(src, osp.join(tmp, f'out{workers}'),
                                      workers=workers, progress=False)
            seconds = time.perf_counter() - start
            rates[workers] = report.files_checked / seconds
            print(f'workers={workers}: {total} files in {seconds:.1f} s = '
                  f'{rates[workers]:.0f} files/s')
    if cores > 1:
        print(f'speed-up with {cores} workers: {rates[cores] / rates[1]:.2f}x')
    return rates
