"""A local web page to try a model on photos (``tools/serve.py``).

FastAPI with one static page rather than Gradio: the page needs a file
picker, a drop zone and a results list, which is a few dozen lines of HTML,
while Gradio would add a large dependency tree and its own front-end build
for the same thing; FastAPI (with uvicorn) is small, and the endpoint is a
plain JSON API that scripts can call too.

The model is an ONNX Runtime session (an exported ``.onnx`` file, or a
checkpoint exported in memory at start-up), loaded once and shared: ONNX
Runtime sessions are safe to run from several threads, FastAPI runs each
request in its own worker thread, and nothing per-request is shared, so
concurrent users never see each other's results.

Scores are temperature-scaled and a photo is answered "unknown" below the
threshold when the model carries a calibration (the checkpoint's
``.calibration.json``, or the one embedded in the ``.onnx``), as
``tools/infer.py`` does.
"""
import argparse
import glob
import io
import os.path as osp
import time

from custom_modules.evaluation.calibration_file import (
    add_calibration_args,
    check_threshold,
)
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.html_page import png_data_uri, render

from ..config import ROOT
from .onnx_classifier import (
    ImageFileError,
    ModelFileError,
    OnnxClassifier,
    load_rgb,
)

MAX_UPLOAD_MB = 10
MAX_PIXELS = 40_000_000


def create_app(classifier, max_bytes=MAX_UPLOAD_MB << 20,
               max_pixels=MAX_PIXELS, topk=5, cam=None):
    """The FastAPI app: ``GET /`` the page, ``POST /api/classify`` one
    image (multipart field ``file``) -> top-k classes, ``unknown``,
    ``calibrated``, ``temperature``, ``threshold``, ``seconds``, or an
    error.

    ``cam(rgb, label)``, when given, returns PNG bytes (a class activation
    map of class ``label`` over the HxWx3 RGB upload); answers then carry it
    as ``cam``, a data URI, which the page shows beside the photo.
    """
    from fastapi import FastAPI, File, HTTPException, UploadFile
    from fastapi.responses import HTMLResponse

    app = FastAPI(title='Flower classifier')
    calibration = {'calibrated': classifier.calibrated,
                   'temperature': classifier.temperature,
                   'threshold': classifier.threshold}

    @app.get('/', response_class=HTMLResponse)
    def page():
        return render('classifier.html.j2', title='Flower classifier')

    @app.get('/api/info')
    def info():
        return {'classes': classifier.classes, 'topk': topk,
                'max_upload_mb': max_bytes / 2**20, 'max_pixels': max_pixels,
                **calibration, 'cam': cam is not None}

    @app.post('/api/classify')
    def classify(file: UploadFile = File(...)):  # noqa: B008 (FastAPI idiom)
        start = time.perf_counter()
        data = file.file.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise HTTPException(413, f'{file.filename} is over the '
                                f'{max_bytes / 2**20:g} MB upload limit.')
        try:
            rgb = load_rgb(io.BytesIO(data), max_pixels, file.filename)
        except ImageFileError as err:
            raise HTTPException(400, str(err)) from err
        scores = classifier.scores(classifier.prepare(rgb)[None])[0]
        answer = {'filename': file.filename,
                  **classifier.answer(scores, topk), **calibration}
        if cam is not None:
            answer['cam'] = png_data_uri(
                cam(rgb, answer['predictions'][0]['label']))
        answer['seconds'] = time.perf_counter() - start
        return answer

    return app


def demo_checkpoint():
    """(config, best checkpoint) of the newest ``make demo`` run."""
    from ..demo import CONFIG
    from ..run_logs import best_checkpoint

    name = osp.splitext(osp.basename(CONFIG))[0]
    runs = sorted(glob.glob(osp.join(ROOT, 'work_dirs', 'demo', '*', name,
                                     'last_checkpoint')))
    if not runs:
        raise UserInputError('no demo checkpoint under work_dirs/demo/; run '
                             '`make demo` first.')
    return CONFIG, best_checkpoint(osp.dirname(runs[-1]))


def load_classifier(model, checkpoint=None, cfg_options=None,
                    calibration=True, threshold=None, with_model=False):
    """An OnnxClassifier from a ``.onnx`` file (with its embedded
    calibration), or from CONFIG CHECKPOINT exported in memory (same graph
    and metadata as tools/deploy/export_onnx.py, the checkpoint's
    ``.calibration.json`` included); ``calibration`` and ``threshold`` as
    ``--no-calibration`` and ``--threshold``. ``with_model`` also returns
    the PyTorch model (for class activation maps; CONFIG CHECKPOINT only)."""
    torch_model = None
    if model.endswith('.onnx'):
        if with_model:
            raise UserInputError(
                f'--cam needs CONFIG CHECKPOINT, not {model}: a class '
                'activation map needs the PyTorch model\'s gradients, which '
                'an exported model does not have.')
        if not osp.isfile(model):
            raise UserInputError(f'model {model} does not exist.')
    elif not checkpoint:
        raise UserInputError('give CONFIG CHECKPOINT, or an exported '
                             'MODEL.onnx.')
    else:
        from ..config import load_config
        from .export import export_onnx
        model, _, _, torch_model, _ = export_onnx(
            load_config(model, cfg_options), checkpoint,
            calibration=calibration)
    try:
        classifier = OnnxClassifier(model, calibration=calibration,
                                    threshold=threshold)
    except ModelFileError as err:
        raise UserInputError(str(err)) from err
    return (classifier, torch_model) if with_model else classifier


def cam_renderer(model, target_layers=None):
    """``cam(rgb, label)`` for :func:`create_app`: the Grad-CAM of class
    ``label`` over the photo as the model sees it (its test pipeline's
    view), as PNG bytes. ``cam_overlay`` serialises calls on its own lock,
    so concurrent requests may share ``model``."""
    from PIL import Image

    from custom_modules.visualization.cam import cam_overlay, resolve_target_layers
    resolve_target_layers(model, target_layers)  # a bad name fails now

    def cam(rgb, label):
        overlay, _, _ = cam_overlay(model, rgb, target=label,
                                    target_layers=target_layers)
        out = io.BytesIO()
        Image.fromarray(overlay).save(out, 'PNG')
        return out.getvalue()

    return cam


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Serve a page that classifies uploaded photos.')
    parser.add_argument('model', nargs='?',
                        help='CONFIG (then CHECKPOINT) or MODEL.onnx')
    parser.add_argument('checkpoint', nargs='?')
    parser.add_argument('--demo', action='store_true',
                        help='serve the newest `make demo` checkpoint')
    parser.add_argument('--host', default='127.0.0.1',
                        help='default: 127.0.0.1 (this machine only); '
                        '0.0.0.0 shows the page to your network')
    parser.add_argument('--port', type=int, default=8000)
    parser.add_argument('--max-upload-mb', type=float, default=MAX_UPLOAD_MB)
    parser.add_argument('--max-pixels', type=int, default=MAX_PIXELS)
    parser.add_argument('--topk', type=int, default=5)
    parser.add_argument('--cam', action='store_true',
                        help='show the class activation map (Grad-CAM) of '
                        'the top class beside each photo (CONFIG CHECKPOINT '
                        'only; adds a backward pass per photo)')
    parser.add_argument('--target-layers', nargs='+',
                        help='the layer(s) --cam explains (default: chosen '
                        'per backbone, see docs/cams.md)')
    add_calibration_args(parser)
    args = parser.parse_args(argv)
    if args.demo == bool(args.model):
        parser.error('give CONFIG CHECKPOINT, MODEL.onnx or --demo')
    if args.target_layers and not args.cam:
        parser.error('--target-layers chooses what --cam explains; add --cam')
    return check_threshold(args)


def describe(classifier):
    """One line on how the scores are made, for the console."""
    line = (f'calibrated scores (temperature {classifier.temperature:.4f})'
            if classifier.calibrated else 'raw scores (no calibration)')
    if classifier.threshold is not None:
        line += f', "unknown" below a top score of {classifier.threshold:.4f}'
    return line


def main(argv=None):
    import uvicorn

    args = parse_args(argv)
    model, checkpoint = (demo_checkpoint() if args.demo
                         else (args.model, args.checkpoint))
    loaded = load_classifier(model, checkpoint,
                             calibration=not args.no_calibration,
                             threshold=args.threshold, with_model=args.cam)
    classifier, torch_model = loaded if args.cam else (loaded, None)
    cam = cam_renderer(torch_model, args.target_layers) if args.cam else None
    app = create_app(classifier, int(args.max_upload_mb * 2**20),
                     args.max_pixels, args.topk, cam=cam)
    print(f'serving {checkpoint or model} on http://{args.host}:{args.port}/ '
          f'with {describe(classifier)} (Ctrl+C stops)', flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level='warning')
    return 0
