"""Grad-CAM maps of a model's worst mistakes and most confident hits.

    python tools/test.py CONFIG CKPT --out preds.json
    python tools/visualization/vis_cam.py CONFIG CKPT --preds preds.json \\
        --out cams.png [--worst 8 --per-class 2 --target-layers NAME]
    python tools/visualization/vis_cam.py CONFIG CKPT --img photo.jpg \\
        --out cam.png [--target CLASS]

The code is in :mod:`custom_modules.apis.cams`; see docs/cams.md.
"""
from custom_modules.apis.cams import main
from custom_modules.utils.cli import run_cli

if __name__ == '__main__':
    run_cli(main)
