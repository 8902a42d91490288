"""Classify images with a trained checkpoint: top-k classes with scores.

    python tools/infer.py CONFIG CHECKPOINT photo.jpg folder/ 'more/*.jpg' \\
        [--topk 3] [--out predictions.csv|.json] [--device cpu]

    python tools/infer.py MODEL.onnx photo.jpg folder/ [--topk 3] [--out ...]

Inputs may be image files, folders (searched recursively) or glob patterns.
Scores are calibrated, with "unknown" answers, when the checkpoint has a
.calibration.json or the .onnx embeds one (--no-calibration, --threshold).
With a model from tools/deploy/export_onnx.py, only onnxruntime, numpy and
Pillow are used: torch and mmengine are never imported.
"""
from custom_modules.apis.inference import main
from custom_modules.utils.cli import run_cli

if __name__ == '__main__':
    run_cli(main)
