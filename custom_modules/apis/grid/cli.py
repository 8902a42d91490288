"""The command line of ``tools/run_grid.py``."""
import argparse
import os.path as osp
import time

from custom_modules.utils.errors import UserInputError

from ..config import ROOT
from ..precision import add_speed_args, check_speed_args
from .results import write_results
from .runner import (
    failed_record,
    prepare_demo,
    select_configs,
    train_run,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Run the 12-config grid and write results tables.')
    parser.add_argument('--configs', nargs='+', default=['*'],
                        help='config name patterns (default: all), e.g. '
                        "'resnet101_*' '*_mix'")
    parser.add_argument('--config-dir', default=osp.join(ROOT, 'configs'))
    parser.add_argument('--work-dir', default='work_dirs/grid')
    parser.add_argument('--seeds', nargs='+', type=int,
                        help='repeat each run with these seeds')
    parser.add_argument('--gpus', type=int, default=1,
                        help='processes per run: one per GPU, or CPU '
                        'processes (gloo) where there is none; >1 trains '
                        'through tools/dist_train.sh')
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument('--pretrained-dir',
                         help='folder holding the official checkpoints '
                         '(offline machines)')
    weights.add_argument('--from-scratch', action='store_true')
    parser.add_argument('--data-root', help='annotation folder for every run')
    parser.add_argument('--no-analysis', action='store_true',
                        help='skip testing the best checkpoints and plots')
    parser.add_argument('--keep-checkpoints', choices=['best', 'all'],
                        default='best',
                        help='what a finished run keeps (default: %(default)s'
                        '; interrupted runs always keep all)')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='passed to every run, e.g. '
                        'train_cfg.max_epochs=10')
    add_speed_args(parser)  # passed to every train.py, test.py, calibrate.py
    parser.add_argument('--demo', action='store_true',
                        help='offline smoke run on synthetic images, from '
                        'scratch, tiny settings')
    parser.add_argument('--demo-epochs', type=int, default=2)
    parser.add_argument('--demo-per-class', type=int, default=20)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    check_speed_args(args)  # refused here, not once per run
    if args.demo:
        prepare_demo(args)
    configs = select_configs(args.config_dir, args.configs)
    seeds = args.seeds or [None]
    total = len(configs) * len(seeds)
    records = []
    start = time.time()
    for i, (config, seed) in enumerate(
            ((c, s) for c in configs for s in seeds), 1):
        def log(text, i=i):
            print(f'[{i}/{total}] {text}  ({time.time() - start:.0f} s)',
                  flush=True)
        try:
            records.append(train_run(args, config, seed, log))
        except UserInputError as error:  # this run only: go on
            log(f'FAILED {error}')
            records.append(failed_record(args, config, seed, error))
    paths, rows = write_results(args.work_dir, records)
    with open(paths['results.md']) as f:
        print('\n' + f.read().split('\nHow the numbers')[0])
    for path in paths.values():
        print(f'wrote {path}')
    failed = [r for r in records if r.get('failed')]
    if failed:
        print(f'{len(failed)} of {len(records)} runs failed; see the '
              'logs named in results.md.')
    return 1 if failed else 0

