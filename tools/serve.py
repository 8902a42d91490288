"""A local web page that classifies photos with a trained model.

    python tools/serve.py CONFIG CHECKPOINT     # exported in memory at start
    python tools/serve.py model.onnx            # from tools/deploy/export_onnx.py
    python tools/serve.py --demo                # the newest `make demo` model

Listens on 127.0.0.1:8000 by default (--host, --port); see docs/deploy.md.
"""
import argparse

import uvicorn

from custom_modules.apis.deploy.onnx_classifier import BACKENDS, MAX_PIXELS
from custom_modules.apis.deploy.serve import (
    MAX_UPLOAD_MB,
    cam_renderer,
    create_app,
    demo_checkpoint,
    load_classifier,
)
from custom_modules.evaluation.calibration import (
    add_calibration_args,
    check_threshold,
)
from custom_modules.utils.cli import run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Serve a page that classifies uploaded photos.')
    add = parser.add_argument
    add('model', nargs='?', help='CONFIG (then CHECKPOINT) or MODEL.onnx')
    add('checkpoint', nargs='?', help='the trained checkpoint (with a CONFIG)')
    add('--demo', action='store_true', help='serve the newest `make demo` checkpoint')
    add('--host', default='127.0.0.1', help='default: 127.0.0.1 (this machine '
        'only); 0.0.0.0 shows the page to your network')
    add('--port', type=int, default=8000, help='TCP port (default: %(default)s)')
    add('--max-upload-mb', type=float, default=MAX_UPLOAD_MB,
        help='largest upload accepted (default: %(default)s)')
    add('--max-pixels', type=int, default=MAX_PIXELS,
        help='largest image accepted, in pixels (default: %(default)s)')
    add('--topk', type=int, default=5,
        help='classes shown per image (default: %(default)s)')
    add('--api-docs', action='store_true', help='serve /docs, /redoc and '
        '/openapi.json (off by default: /docs loads scripts from a CDN)')
    add('--cam', action='store_true', help='show the class activation map '
        '(Grad-CAM) of the top class beside each photo (CONFIG CHECKPOINT only; '
        'adds a backward pass per photo)')
    add('--target-layers', nargs='+', help='the layer(s) --cam explains (default: '
        'chosen per backbone, see docs/cams.md)')
    add('--backend', choices=BACKENDS, default='auto', help='the engine that runs '
        'the network: openvino where the openvino package is installed (faster on '
        'the CPUs measured in docs/deploy.md), else onnxruntime (default: auto)')
    add_calibration_args(parser)
    args = parser.parse_args(argv)
    if args.demo == bool(args.model):
        parser.error('give CONFIG CHECKPOINT, MODEL.onnx or --demo')
    if args.target_layers and not args.cam:
        parser.error('--target-layers chooses what --cam explains; add --cam')
    if args.cam and (args.model or '').endswith('.onnx'):
        parser.error(f'--cam needs CONFIG CHECKPOINT, not {args.model}: a class '
                     'activation map needs the PyTorch model\'s gradients, which an '
                     'exported model does not have.')
    return check_threshold(args)


def describe(classifier):
    """One line on how the scores are made, for the console."""
    line = f'backend: {classifier.backend}; ' + (
        f'calibrated scores (temperature {classifier.temperature:.4f})'
        if classifier.calibrated else 'raw scores (no calibration)')
    if classifier.threshold is not None:
        line += (f', "unknown" where the {classifier.score} reject score is '
                 f'below {classifier.threshold:.4f}')
    return line


def main(argv=None):
    args = parse_args(argv)
    model, checkpoint = (demo_checkpoint() if args.demo
                         else (args.model, args.checkpoint))
    classifier, torch_model = load_classifier(
        model, checkpoint, calibration=not args.no_calibration,
        threshold=args.threshold, backend=args.backend)
    cam = cam_renderer(torch_model, args.target_layers) if args.cam else None
    app = create_app(classifier, int(args.max_upload_mb * 2**20), args.max_pixels,
                     args.topk, cam=cam, api_docs=args.api_docs)
    print(f'serving {checkpoint or model} on http://{args.host}:{args.port}/ with '
          f'{describe(classifier)} (Ctrl+C stops)', flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level='warning')
    return 0


if __name__ == '__main__':
    run_cli(main)
