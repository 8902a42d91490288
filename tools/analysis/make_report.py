"""A one-page, self-contained report.html for a run or a grid:
``python tools/analysis/make_report.py RUN_DIR|GRID_DIR``.

The code is in :mod:`custom_modules.apis.make_report`.
"""
from custom_modules.apis.make_report import main
from custom_modules.utils.cli import run_cli

if __name__ == '__main__':
    run_cli(main)
