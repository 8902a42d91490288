"""Export a checkpoint to ONNX, checked against PyTorch on 16 photos.

    python tools/deploy/export_onnx.py CONFIG CHECKPOINT [--out model.onnx]

The model takes float32 RGB NCHW images with values 0-255 (normalisation is
inside) and returns probabilities; class names and the resize/crop recipe
are in its metadata. See docs/deploy.md; the code is in
:mod:`custom_modules.apis.deploy.export`.
"""
from custom_modules.apis.deploy.export import main
from custom_modules.utils.cli import run_cli

if __name__ == '__main__':
    run_cli(main)
