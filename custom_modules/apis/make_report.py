"""The command line of ``tools/analysis/make_report.py``: a run's or a
grid's one-page ``report.html``, from the files the folder already holds."""
import argparse
import os.path as osp

from custom_modules.utils.errors import UserInputError

from .grid.report import finished_runs, write_grid_report
from .report import write_run_report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Write report.html for a training run (a tools/train.py '
        'or run_grid.py work dir) or for a whole grid (its --work-dir).')
    parser.add_argument('folder', help='RUN_DIR or GRID_DIR')
    parser.add_argument('--predictions',
                        help='a run\'s tools/test.py --out file (default: '
                        '<run>/test_predictions.json or val_predictions.json)')
    parser.add_argument('--force', action='store_true',
                        help='replace existing report.html files')
    return parser.parse_args(argv)


def print_result(path, absent):
    print(f'wrote {path}')
    for what, command in absent:
        print(f'  missing: {what}' + (f'\n    make it with: {command}'
                                      if command else ''))


def main(argv=None):
    args = parse_args(argv)
    if not osp.isdir(args.folder):
        raise UserInputError(f'{args.folder} is not a folder; give a run\'s '
                             'or a grid\'s work dir.')
    if not osp.isfile(osp.join(args.folder, 'results.md')):
        print_result(*write_run_report(args.folder, None, args.predictions,
                                       args.force))
        return 0
    if args.predictions:
        raise UserInputError('--predictions is for one run, not a grid.')
    for run_dir, _ in finished_runs(args.folder):  # pages the grid lacks
        if args.force or not osp.isfile(osp.join(run_dir, 'report.html')):
            print_result(*write_run_report(run_dir, force=args.force))
    print_result(*write_grid_report(args.folder, force=args.force))
    return 0
