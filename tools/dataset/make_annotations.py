"""Check a folder of class sub-folders and write ImageNet-style annotations.

    python tools/dataset/make_annotations.py ../shared/datasets/flower_dataset

writes ``classes.txt``, ``train.txt``, ``val.txt`` (and ``test.txt`` with
``--split 8:1:1``) to ``data/flower_dataset/`` after decoding and hashing
every file; the source folder is only read.
"""
import argparse

from custom_modules.datasets.annotations import (
    DatasetError,
    format_report,
    make_annotations,
)
from custom_modules.utils.cli import add_force, run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='folder with one sub-folder per class')
    parser.add_argument('--out-dir', default='data/flower_dataset',
                        help='where annotation files go (the configs\' '
                        'data_root; default: %(default)s)')
    parser.add_argument('--split', default='8:2',
                        help='train:val or train:val:test ratio, e.g. 8:1:1 '
                        'for an untouched test split, or 0:0:1 for all '
                        'photos in test.txt (default: %(default)s)')
    parser.add_argument('--all-test', action='store_const', const='0:0:1',
                        dest='split', help='same as --split 0:0:1')
    parser.add_argument('--seed', type=int, default=0,
                        help='shuffle seed (default: %(default)s)')
    parser.add_argument('--layout', choices=['inplace', 'symlink', 'copy'],
                        default='inplace',
                        help='inplace: reach the source images through one '
                        'symlink, <out>/images; symlink/copy: build '
                        '<split>/<class>/ folders (default: %(default)s)')
    parser.add_argument('--on-problem', choices=['stop', 'exclude'],
                        default='stop',
                        help='stop before writing anything, or leave the '
                        'files out and list them (default: %(default)s)')
    parser.add_argument('--min-per-class', type=int, default=0,
                        help='classes with fewer usable images are a '
                        'problem (default: one per split)')
    parser.add_argument('--workers', type=int, default=None,
                        help='decoding processes (default: all cores)')
    add_force(parser, 'existing annotation files')
    parser.add_argument('--decisions', metavar='FILE',
                        help='apply a decisions file (exclude / relabel / '
                        'group lines) from tools/dataset/doctor.py')
    parser.add_argument('--quiet', action='store_true',
                        help='no progress bar')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.workers is not None and args.workers < 1:
        raise DatasetError(f'--workers {args.workers}: give 1 or more '
                           'processes (or leave it out to use every core).')
    if args.min_per_class < 0:
        raise DatasetError(f'--min-per-class {args.min_per_class}: give 0 '
                           '(one image per split) or more.')
    options = {k: v for k, v in vars(args).items() if k != 'quiet'}
    report = make_annotations(progress=not args.quiet, **options)
    print(format_report(report, args.on_problem))
    print('\nnext: look for near-duplicates, doubtful labels and outliers '
          f'with  python tools/dataset/doctor.py {args.src}')
    return 0


if __name__ == '__main__':
    run_cli(main)
