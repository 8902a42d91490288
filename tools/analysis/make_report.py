"""A one-page, self-contained report.html for a run or a grid:
``python tools/analysis/make_report.py RUN_DIR|GRID_DIR``."""
import argparse

from custom_modules.apis.make_report import make_report
from custom_modules.utils.cli import add_force, run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Write report.html for a training run (a tools/train.py '
        'or run_grid.py work dir) or for a whole grid (its --work-dir).')
    parser.add_argument('folder', help='RUN_DIR or GRID_DIR')
    parser.add_argument('--predictions', help='a run\'s tools/test.py --out file '
                        '(default: the run\'s test_ or val_predictions.json)')
    add_force(parser, 'existing report.html files')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    for path, absent in make_report(args.folder, args.predictions, args.force):
        print(f'wrote {path}')
        for what, command in absent:
            print(f'  missing: {what}' + (f'\n    make it with: {command}'
                                          if command else ''))
    return 0


if __name__ == '__main__':
    run_cli(main)
