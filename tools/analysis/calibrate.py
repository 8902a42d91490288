"""Fit temperature scaling and a reject threshold on val:
``python tools/analysis/calibrate.py CONFIG CHECKPOINT``.

The code is in :mod:`custom_modules.apis.calibrate`.
"""
from custom_modules.apis.calibrate import main
from custom_modules.utils.cli import run_cli

if __name__ == '__main__':
    run_cli(main)
