"""A local web page that classifies photos with a trained model.

    python tools/serve.py CONFIG CHECKPOINT     # exported in memory at start
    python tools/serve.py model.onnx            # from tools/deploy/export_onnx.py
    python tools/serve.py --demo                # the newest `make demo` model

Listens on 127.0.0.1:8000 by default (--host, --port). Calibrated scores and
"unknown" answers when the model has a calibration (--no-calibration,
--threshold); see docs/deploy.md.
The code is in :mod:`custom_modules.apis.deploy.serve`.
"""
from custom_modules.apis.deploy.serve import main
from custom_modules.utils.cli import run_cli

if __name__ == '__main__':
    run_cli(main)
