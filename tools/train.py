"""Train a classifier from a config: ``python tools/train.py CONFIG``.

Flags follow mmpretrain's tools/train.py, plus ``--pretrained``,
``--from-scratch``, ``--data-root`` and ``--force``; the code is in
:mod:`custom_modules.apis.training`.
"""
from custom_modules.apis.training import main
from custom_modules.utils.cli import run_cli

if __name__ == '__main__':
    run_cli(main)
