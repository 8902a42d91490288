"""A local web page and JSON API to try a model on photos (``tools/serve.py``).

FastAPI with one static page (a few dozen lines of HTML, where Gradio would add a large
dependency tree). One thread-safe ONNX Runtime session serves every request; scores are
calibrated as ``tools/infer.py`` does it. Serving a ``.onnx`` needs no torch.
"""
import glob
import io
import os.path as osp
import time

from fastapi import FastAPI, File, HTTPException, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse
from PIL import Image

from custom_modules.utils.errors import UserInputError
from custom_modules.utils.html_page import png_data_uri, render
from custom_modules.utils.paths import ROOT
from custom_modules.visualization.cam import cam_overlay, resolve_target_layers

from ..config import load_config
from ..run_logs import best_checkpoint
from .onnx_classifier import MAX_PIXELS, ImageFileError, OnnxClassifier

MAX_UPLOAD_MB = 10
MULTIPART_SLACK = 64 << 10  # the multipart headers around the file


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` gets HTTP 413, by its
    Content-Length before any of it is read, or as soon as a streamed (chunked)
    body passes the limit; the rest is never read.

    Args:
        app: the ASGI app it wraps.
        max_bytes (int): the most bytes of body a request may send.
        detail (str): the 413 answer's ``detail``.
    """

    def __init__(self, app, max_bytes, detail):
        self.app, self.max_bytes, self.detail = app, max_bytes, detail

    async def __call__(self, scope, receive, send):
        if scope['type'] != 'http':
            return await self.app(scope, receive, send)
        length = dict(scope['headers']).get(b'content-length', b'')
        if length.isdigit() and int(length) > self.max_bytes:
            response = JSONResponse({'detail': self.detail}, 413)
            return await response(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            seen += len(message.get('body', b''))
            if seen > self.max_bytes:  # FastAPI answers it, as a route's own
                raise HTTPException(413, self.detail)
            return message

        await self.app(scope, limited, send)


def create_app(classifier, max_bytes=MAX_UPLOAD_MB << 20,
               max_pixels=MAX_PIXELS, topk=5, cam=None, api_docs=False):
    """The FastAPI app: ``GET /`` the page, ``GET /api/info`` the model and limits,
    ``POST /api/classify`` one image (multipart field ``file``).

    Args:
        classifier (OnnxClassifier): shared by all requests.
        max_bytes, max_pixels (int): larger uploads get HTTP 413 (a body over
            ``max_bytes`` and the multipart headers is cut off unread), larger
            images 400.
        cam (callable, optional): ``cam(rgb, label)`` -> PNG bytes, as from
            :func:`cam_renderer`; answers then carry it as ``cam``, a data URI the
            page shows beside the photo.
        api_docs (bool): serve ``/docs``, ``/redoc`` and ``/openapi.json`` (off:
            the app runs offline and ``/docs`` loads scripts from a CDN).

    Returns:
        FastAPI: its answers are :meth:`OnnxClassifier.answers`' dict (with the
        reject score's name and value) plus ``filename``, ``calibrated``,
        ``temperature``, ``threshold`` and ``seconds``.
    """
    docs = {} if api_docs else dict(docs_url=None, redoc_url=None, openapi_url=None)
    app = FastAPI(title='Flower classifier', **docs)
    limit = f'{max_bytes / 2**20:g} MB upload limit'
    app.add_middleware(BodyLimit, max_bytes=max_bytes + MULTIPART_SLACK,
                       detail=f'the request is over the {limit}.')
    calibration = dict(calibrated=classifier.calibrated, reject_score=classifier.score,
                       temperature=classifier.temperature,
                       threshold=classifier.threshold)

    @app.get('/', response_class=HTMLResponse)
    def page():
        return render('classifier.html.j2', title='Flower classifier')

    @app.get('/api/info')
    def info():
        return {'classes': classifier.classes, 'topk': topk,
                'max_upload_mb': max_bytes / 2**20, 'max_pixels': max_pixels,
                'backend': classifier.backend, **calibration, 'cam': cam is not None}

    @app.post('/api/classify')
    def classify(file: list[UploadFile] = File(...)):  # noqa: B008 (FastAPI idiom)
        start = time.perf_counter()
        if len(file) != 1:
            raise HTTPException(422, f'send one photo per request, not {len(file)} '
                                'files.')
        file = file[0]
        data = file.file.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise HTTPException(413, f'{file.filename} is over the {limit}.')
        try:
            rgb = classifier.load(io.BytesIO(data), max_pixels, file.filename)
        except ImageFileError as err:
            raise HTTPException(400, str(err)) from err
        answer = {'filename': file.filename, **calibration,
                  **classifier.answers(classifier.prepare(rgb)[None], topk)[0]}
        if cam is not None:
            answer['cam'] = png_data_uri(cam(rgb, answer['predictions'][0]['label']))
        answer['seconds'] = time.perf_counter() - start
        return answer

    return app


def demo_checkpoint():
    """(config, best checkpoint) of the newest ``make demo`` run."""
    from ..demo import CONFIG  # lazy: demo imports torch; a .onnx is served without it

    name = osp.splitext(osp.basename(CONFIG))[0]
    runs = sorted(glob.glob(osp.join(ROOT, 'work_dirs', 'demo', '*', name,
                                     'last_checkpoint')))
    if not runs:
        raise UserInputError(
            'no demo checkpoint under work_dirs/demo/; run `make demo` first.')
    return CONFIG, best_checkpoint(osp.dirname(runs[-1]))


def load_classifier(model, checkpoint=None, cfg_options=None, calibration=True,
                    threshold=None, backend='auto'):
    """The :class:`OnnxClassifier` to serve, and the PyTorch model (for class
    activation maps; None for a ``.onnx``).

    Args:
        model (str): a ``.onnx`` file, or a config (then ``checkpoint``), exported in
            memory as ``tools/deploy/export_onnx.py`` would.
        cfg_options (dict, optional): the config overrides of training.
        calibration, threshold, backend: as :class:`OnnxClassifier` takes them.
    """
    torch_model = None
    if model.endswith('.onnx'):
        if not osp.isfile(model):
            raise UserInputError(f'model {model} does not exist.')
    elif not checkpoint:
        raise UserInputError('give CONFIG CHECKPOINT, or an exported MODEL.onnx.')
    else:
        from .export import export_onnx  # lazy: torch; a .onnx is served without it
        model, _, _, torch_model, _ = export_onnx(
            load_config(model, cfg_options), checkpoint, calibration=calibration)
    return OnnxClassifier(model, calibration=calibration, threshold=threshold,
                          backend=backend), torch_model


def cam_renderer(model, target_layers=None):
    """``cam(rgb, label)`` for :func:`create_app`: PNG bytes of the Grad-CAM of class
    ``label`` over the photo as ``model`` sees it (its test pipeline's view).
    ``cam_overlay`` serialises calls on its own lock, so requests may share it."""
    resolve_target_layers(model, target_layers)  # a bad name fails now

    def cam(rgb, label):
        overlay, _, _ = cam_overlay(model, rgb, label, target_layers=target_layers)
        out = io.BytesIO()
        Image.fromarray(overlay).save(out, 'PNG')
        return out.getvalue()

    return cam
