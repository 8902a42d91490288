"""Files per second of make_annotations on a generated tree.

    python tools/dataset/benchmark_annotations.py [--files 20000]

draws ``--files`` small synthetic JPEGs (5 classes), then times the whole
tool (scan, decode, hash, split, write) with one worker and with every core,
side by side in one run, and prints both rates and their ratio.
"""
import argparse
import os
import os.path as osp
import tempfile
import time

from custom_modules.datasets.annotations import make_annotations
from custom_modules.datasets.synthetic_flowers import CLASSES, make_dataset


def timed_run(src, out, workers):
    start = time.perf_counter()
    report = make_annotations(src, out, workers=workers, progress=False)
    seconds = time.perf_counter() - start
    return report.files_checked / seconds, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--files', type=int, default=20000)
    parser.add_argument('--size', type=int, default=64, help='image side')
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        src = osp.join(tmp, 'tree')
        start = time.perf_counter()
        make_dataset(src, per_class=args.files // len(CLASSES),
                     size=args.size)
        total = sum(len(files) for _, _, files in os.walk(src))
        print(f'generated {total} JPEGs of {args.size} px in '
              f'{time.perf_counter() - start:.1f} s')
        rates = {}
        for workers in sorted({1, cores}):
            rate, seconds = timed_run(src, osp.join(tmp, f'out{workers}'),
                                      workers)
            rates[workers] = rate
            print(f'workers={workers}: {total} files in {seconds:.1f} s = '
                  f'{rate:.0f} files/s')
        if cores > 1:
            print(f'speed-up with {cores} workers: '
                  f'{rates[cores] / rates[1]:.2f}x')


if __name__ == '__main__':
    main()
