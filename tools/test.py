"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT``.

Flags follow mmpretrain's tools/test.py; ``--out`` saves every prediction
for the analysis tools. The code is in :mod:`custom_modules.apis.testing`.
"""
from custom_modules.apis.testing import main
from custom_modules.utils.cli import run_cli

if __name__ == '__main__':
    run_cli(main)
