"""Search hyper-parameters with Optuna:
``python tools/tune.py CONFIG --trials 20 --timeout 1200``.

The config's ``tune_space`` says what to search (custom_modules/apis/tuning.py).
Writes WORK_DIR/tune_results.md, Optuna's plots and WORK_DIR/best_config.py;
running the same command again after a kill resumes the search.
"""
import argparse

from custom_modules.apis.tuning import summary, tune
from custom_modules.utils.cli import add_cfg_options, add_data_root, run_cli
from custom_modules.utils.errors import UserInputError


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Search the hyper-parameters in a config\'s tune_space '
        'with Optuna (TPE sampler, median pruner on per-epoch val accuracy)')
    parser.add_argument('config', help='config file with a tune_space')
    parser.add_argument('--trials', type=int, default=20,
                        help='finished trials wanted in all, those of an '
                        'interrupted search in WORK_DIR included '
                        '(default: %(default)s)')
    parser.add_argument('--timeout', type=float, metavar='SECONDS',
                        help='start no new trial after this many seconds '
                        '(a running trial finishes)')
    parser.add_argument('--work-dir', help='where the study and the trials '
                        'go (default: work_dirs/tune_<config name>)')
    parser.add_argument('--seed', type=int, default=0,
                        help='the TPE sampler\'s seed (default: %(default)s)')
    data = parser.add_mutually_exclusive_group()
    add_data_root(data)
    data.add_argument('--data-folder', metavar='PATH',
                      help='a class-per-folder tree, split as train.py '
                      '--data-folder does (the same split in every trial)')
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument('--pretrained', metavar='PATH',
                         help='local pretrained checkpoint (offline)')
    weights.add_argument('--from-scratch', action='store_true',
                         help='train every trial from random weights')
    add_cfg_options(parser, help='overrides for every trial, e.g. '
                    'train_cfg.max_epochs=3')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.trials < 1:
        raise UserInputError(f'--trials {args.trials}: must be at least 1.')
    out = tune(**{k: v for k, v in vars(args).items() if v is not None
                  and v is not False})
    print(summary(out))
    return out


if __name__ == '__main__':
    run_cli(main)
