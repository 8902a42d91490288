"""Run the grid of configs (all, or a subset) and tabulate the results.

    python tools/run_grid.py                           # all 16 configs
    python tools/run_grid.py --configs 'resnet101_*' --seeds 0 1 2
    python tools/run_grid.py --demo                    # offline, synthetic

Each run trains in its own work dir (``<work-dir>/<config>[/seed<k>]``),
one after another, through tools/train.py (or tools/dist_train.sh with
``--gpus N``). A finished run (``done.json``) is skipped, an interrupted one
resumes from its last checkpoint, so the same command picks a grid up where
it stopped. Then each run's best checkpoint is tested (per-class metrics,
confusion matrix, mistakes, training curves), and ``results.md``,
``results.csv`` and ``results.png`` are written in ``--work-dir``.
"""
from custom_modules.apis.grid.cli import main
from custom_modules.utils.cli import run_cli

if __name__ == '__main__':
    run_cli(main)
