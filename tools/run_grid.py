"""Run the grid of configs (all, or a subset) and tabulate the results.

    python tools/run_grid.py                           # all 16 configs
    python tools/run_grid.py --configs 'resnet101_*' --seeds 0 1 2
    python tools/run_grid.py --demo                    # offline, synthetic

Each run trains in ``<work-dir>/<config>[/seed<k>]``; a finished one is
skipped, an interrupted one resumes, so the same command picks a grid up
where it stopped. Each best checkpoint is then calibrated, tested,
benchmarked under 4 shifts and plotted, and ``results.md``/``.csv``/``.png``
are written in ``--work-dir``.
"""
import argparse

from custom_modules.apis.grid.api import GRID_DEFAULTS, run_grid
from custom_modules.apis.precision import add_speed_args
from custom_modules.apis.tracking import VIS_BACKENDS
from custom_modules.utils.cli import run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--configs', nargs='+',
                        help='config name patterns (default: all), e.g. '
                        "'resnet101_*' '*_mix'")
    parser.add_argument('--config-dir',
                        help='folder of the configs to run (default: configs/)')
    parser.add_argument('--work-dir', help='one folder per run, the table '
                        'and plots (default: %(default)s)')
    parser.add_argument('--seeds', nargs='+', type=int,
                        help='repeat each run with these seeds')
    parser.add_argument('--gpus', type=int,
                        help='processes per run: one per GPU, or CPU '
                        'processes (gloo) where there is none; >1 trains '
                        'through tools/dist_train.sh')
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument('--pretrained-dir',
                         help='folder holding the official checkpoints '
                         '(offline machines)')
    weights.add_argument('--from-scratch', action='store_true',
                         help='train every run from random weights')
    parser.add_argument('--data-root', help='annotation folder for every run')
    parser.add_argument('--no-analysis', action='store_true',
                        help='skip testing the best checkpoints and plots')
    parser.add_argument('--shift-benchmark',
                        action=argparse.BooleanOptionalAction,
                        help='after each test, the short shift benchmark '
                        '(low_res, squash, jpeg, gaussian_blur at severity 3) '
                        'of the best checkpoint: the table\'s Mean corrupted '
                        'acc. column; seconds per run, on by default')
    parser.add_argument('--keep-checkpoints', choices=['best', 'all'],
                        help='what a finished run keeps (default: %(default)s'
                        '; interrupted runs always keep all)')
    parser.add_argument('--cfg-options', nargs='+',
                        help='passed to every run, e.g. '
                        'train_cfg.max_epochs=10')
    parser.add_argument('--vis-backend', action='append',
                        choices=sorted(VIS_BACKENDS),
                        help='passed to every run\'s train.py: also track it '
                        'with TensorBoard or MLflow (repeat for both)')
    parser.add_argument('--early-stop', type=int, metavar='PATIENCE',
                        help='passed to every run\'s train.py: stop a run '
                        'when val accuracy has not improved for PATIENCE '
                        'validations; the table says where each run stopped')
    add_speed_args(parser)  # passed to every train.py, test.py, calibrate.py
    parser.add_argument('--demo', action='store_true',
                        help='offline smoke run on synthetic images, from '
                        'scratch, tiny settings')
    parser.add_argument('--demo-epochs', type=int,
                        help='with --demo: epochs per run (default: %(default)s)')
    parser.add_argument('--demo-per-class', type=int,
                        help='with --demo: synthetic images per class '
                        '(default: %(default)s)')
    parser.set_defaults(**GRID_DEFAULTS)  # one home: grid_options' too
    return parser.parse_args(argv)


def main(argv=None):
    result = run_grid(**vars(parse_args(argv)))
    records, paths = result['records'], result['paths']
    if result['interrupted'] and not records:
        return result['interrupted']
    with open(paths['results.md']) as f:
        print('\n' + f.read().split('\nHow the numbers')[0])
    for path in paths.values():
        print(f'wrote {path}')
    if result['interrupted']:
        print(f'interrupted: the table holds the {len(records)} run(s) that '
              'finished; run the same command again to continue.')
        return result['interrupted']
    failed = [r for r in records if r.get('failed')]
    if failed:
        print(f'{len(failed)} of {len(records)} runs failed; see the '
              'logs named in results.md.')
    return 1 if failed else 0


if __name__ == '__main__':
    run_cli(main)
