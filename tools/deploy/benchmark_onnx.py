"""Images/s of ONNX Runtime vs PyTorch eager on the CPU.

    python tools/deploy/benchmark_onnx.py [CONFIG] [--batch-sizes 1 16]

Default CONFIG: configs/resnet101_freeze2_fixed.py (224 px). The code is in
:mod:`custom_modules.apis.benchmark.onnx`.
"""
from custom_modules.apis.benchmark.onnx import main
from custom_modules.utils.cli import run_cli

if __name__ == '__main__':
    run_cli(main)
