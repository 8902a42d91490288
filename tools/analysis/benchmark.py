"""Speed of bare PyTorch against our training, testing and inference, side
by side in one table: ``python tools/analysis/benchmark.py [CONFIG]``.

``--smoke`` runs a tiny model on tiny generated images in seconds. The code
is in :mod:`custom_modules.apis.benchmark.torch_speed`.
"""
from custom_modules.apis.benchmark.torch_speed import main
from custom_modules.utils.cli import run_cli

if __name__ == '__main__':
    run_cli(main)
