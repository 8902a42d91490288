"""Classify photos with an exported ONNX model, without PyTorch.

Imports only onnxruntime, numpy, Pillow and the numpy-only ``evaluation.calibration``
(an import-linter contract keeps torch and mmengine out). With the optional
``openvino`` package the network runs in OpenVINO (faster on the CPUs measured in
docs/deploy.md); ONNX Runtime still reads and checks the file. The metadata_props:
``classes`` (JSON list, index = output column), ``preprocess`` (JSON, the test
pipeline's ResizeEdge then CenterCrop), when calibrated ``temperature``,
``threshold`` and ``score`` (``energy`` or ``max_softmax``, the default), and when
quantized ``precision`` (``int8``; default fp32) and ``quantization``. The input
``images`` is float32 RGB NCHW 0-255 (normalisation is in the graph); the outputs
``probs`` and ``logits`` (older files have ``probs`` only).
"""
import importlib.util
import json
import math
import threading
import time

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

from custom_modules.evaluation.calibration import (
    LEGACY_SCORE,
    REJECT_SCORES,
    apply_temperature,
    as_logits,
    check_calibration,
    reject_score,
    threshold_override,
)
from custom_modules.utils.errors import UserInputError

INPUT_LAYOUT = 'float32 RGB NCHW 0-255'
MAX_PIXELS = 40_000_000
MAX_ASPECT = 50
# Images over this are shrunk (JPEG draft, Image.reduce) to twice the resize
# before sampling; smaller ones are sampled exactly as cv2 resizes them.
EXACT_PIXELS = 16_000_000
MAX_SIDE = 4096
EDGES = ('short', 'long', 'width', 'height')
PRECISIONS = ('fp32', 'int8')
BACKENDS = ('auto', 'onnxruntime', 'openvino')


class ModelFileError(UserInputError, ValueError):
    """The file is not a classifier written by export_onnx.py."""


class ImageFileError(UserInputError, ValueError):
    """A file that Pillow cannot read as an image."""


class BackendError(UserInputError, ValueError):
    """A backend that is not installed or not known."""


def openvino_installed():
    """Whether the optional ``openvino`` package can be imported."""
    return importlib.util.find_spec('openvino') is not None


def resolve_backend(backend='auto'):
    """``backend`` as the engine that will run: ``'auto'`` is OpenVINO where the
    ``openvino`` package is installed, else ONNX Runtime.

    Raises:
        BackendError: an unknown name, or ``'openvino'`` without the package.
    """
    if backend not in BACKENDS:
        raise BackendError(f'backend {backend!r}: use one of {", ".join(BACKENDS)}.')
    installed = openvino_installed()
    if backend == 'openvino' and not installed:
        raise BackendError('the openvino backend needs the openvino package: pip '
                           'install openvino (requirements/optional.txt).')
    return backend if backend != 'auto' else 'openvino' if installed else 'onnxruntime'


def openvino_runner(model, threads=None):
    """``run(batch) -> [outputs]`` for ``model`` (a ``.onnx`` path or its bytes)
    compiled by OpenVINO for the CPU, in fp32 arithmetic where the graph is float
    (OpenVINO would pick bf16 on a CPU that has it; a QDQ int8 graph still runs
    int8). Each thread gets its own infer request, so ``run`` is thread-safe."""
    import openvino  # lazy: an optional backend (requirements/optional.txt)
    core = openvino.Core()
    config = {'PERFORMANCE_HINT': 'LATENCY', 'INFERENCE_PRECISION_HINT': 'f32'}
    if threads:
        config['INFERENCE_NUM_THREADS'] = threads
    compiled = core.compile_model(core.read_model(model), 'CPU', config)
    local = threading.local()

    def run(batch):
        if not hasattr(local, 'request'):
            local.request = compiled.create_infer_request()
        return list(local.request.infer([batch]).to_tuple())  # in output order

    return run


def load_rgb(source, max_pixels=MAX_PIXELS, name=None, min_side=None):
    """Decode an image to an HxWx3 uint8 RGB array, EXIF orientation applied (as cv2).

    The size is checked before the pixels are decoded, so memory and time per image
    stay bounded whatever the file claims.

    Args:
        source (str | file): a path or a binary file object.
        max_pixels (int): larger images are refused (None: no limit).
        name (str, optional): names the image in errors (default: the path).
        min_side (int, optional): an image of over ``EXACT_PIXELS`` is shrunk by a
            whole factor, keeping its short side at least this long.

    Raises:
        ImageFileError: not an image, over ``max_pixels`` or more than
            ``MAX_ASPECT`` times longer than wide (or the reverse).
    """
    name = name or (source if isinstance(source, str) else 'upload')
    try:
        with Image.open(source) as image:
            width, height = image.size
            size = f'{name}: {width} x {height} pixels'
            if max_pixels and width * height > max_pixels:
                raise ImageFileError(f'{size} is over the limit of {max_pixels:,}; '
                                     'send a smaller image.')
            if max(width, height) > MAX_ASPECT * min(width, height):
                raise ImageFileError(f'{size} is more than {MAX_ASPECT} times longer '
                                     'than wide; crop it first.')
            if min_side and width * height > EXACT_PIXELS:
                ratio = min_side / min(width, height)
                image.draft(None, (math.ceil(width * ratio), math.ceil(height * ratio)))
                factor = min(image.size) // min_side
                if factor > 1:
                    image = image.reduce(factor)
            ImageOps.exif_transpose(image, in_place=True)
            return np.asarray(image if image.mode == 'RGB' else image.convert('RGB'))
    except ImageFileError:
        raise
    except Image.DecompressionBombError as err:
        raise ImageFileError(f'{name}: {err}') from err
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageFileError(
            f'{name}: not an image that can be read (JPEG, PNG, BMP, TIFF, WebP...): '
            f'{type(err).__name__}.') from err


def _bad(name, field, problem, what='metadata'):
    return ModelFileError(f'{name}: {what} {field} {problem}; export the model again '
                          'with tools/deploy/export_onnx.py.')


def _json(meta, field, name):
    if field not in meta:
        raise _bad(name, field, 'is missing')
    try:
        return json.loads(meta[field])
    except (TypeError, ValueError, RecursionError) as err:
        raise _bad(name, field, f'is not JSON ({type(err).__name__})') from err


def _side(value, name, field):
    if type(value) is not int or not 1 <= value <= MAX_SIDE:
        raise _bad(name, field, f'is {value!r}, not a whole number of pixels from '
                   f'1 to {MAX_SIDE}')
    return value


def _number(meta, field, name, low, high):
    try:
        value = float(meta[field])
    except (TypeError, ValueError):
        value = meta[field]
    if not (isinstance(value, float) and low <= value <= high):  # refuses nan too
        raise _bad(name, f'{field}={value}', f'(need {low:g} <= {field} <= {high:g})',
                   'calibration metadata')


def validate_metadata(meta, num_outputs, input_size=None, name='the model'):
    """Check every field of the metadata that :class:`OnnxClassifier` reads.

    A tampered or damaged block is refused here, naming the field, not later.

    Args:
        meta (dict[str, str]): the model's metadata_props.
        num_outputs (int | None): the model's output columns (classes); None
            skips the count.
        input_size (int, optional): the side of the model's square input.
        name (str): names the model in errors.

    Returns:
        tuple: (classes, preprocess), decoded.

    Raises:
        ModelFileError: naming the first bad field.
    """
    classes = _json(meta, 'classes', name)
    if (not isinstance(classes, list)
            or not all(isinstance(c, str) and c.strip() for c in classes)):
        raise _bad(name, 'classes', 'is not a list of non-empty names')
    if num_outputs is not None and len(classes) != num_outputs:
        raise _bad(name, 'classes', f'has {len(classes)} names for the model\'s '
                   f'{num_outputs} outputs')
    preprocess = _json(meta, 'preprocess', name)
    if not isinstance(preprocess, dict):
        raise _bad(name, 'preprocess', 'is not a JSON object')
    resize = preprocess.get('resize_edge')
    if not isinstance(resize, dict):
        raise _bad(name, 'preprocess.resize_edge', 'is not a JSON object')
    _side(resize.get('scale'), name, 'preprocess.resize_edge.scale')
    if resize.get('edge') not in EDGES:
        raise _bad(name, 'preprocess.resize_edge.edge',
                   f'is {resize.get("edge")!r}, not one of {", ".join(EDGES)}')
    size = _side(preprocess.get('crop_size'), name, 'preprocess.crop_size')
    if input_size and size != input_size:
        raise _bad(name, 'preprocess.crop_size',
                   f'is {size} but the model takes {input_size} x {input_size}')
    if meta.get('precision', 'fp32') not in PRECISIONS:
        raise _bad(name, 'precision', f'is {meta["precision"]!r}, not one of '
                   f'{", ".join(PRECISIONS)}')
    if 'temperature' in meta:
        _number(meta, 'temperature', name, 1e-3, 1e3)
    score = meta.get('score', LEGACY_SCORE)
    if score not in REJECT_SCORES:
        raise _bad(name, 'score', f'is {score!r}, not one of '
                   f'{", ".join(REJECT_SCORES)}')
    if meta.get('threshold') not in (None, ''):
        _number(meta, 'threshold', name, *((0, 1) if score == 'max_softmax'
                                           else (-1e6, 1e6)))
    return classes, preprocess


def _taps(size, step, offset, length):
    """Bilinear taps along one axis, as Pillow's affine transform takes them:
    (first index, second index, weight of the second, inside the image)."""
    pos = step * (np.arange(size) + 0.5) + offset * step
    inside = (pos >= 0) & (pos < length)
    pos -= 0.5
    first = np.floor(pos)
    weight = pos - first
    first = first.astype(np.int64)
    return (np.clip(first, 0, length - 1), np.clip(first + 1, 0, length - 1),
            weight, inside)


class OnnxClassifier:
    """An exported model, loaded once; thread-safe, as ONNX Runtime sessions are.

    Args:
        model (str | bytes): the ``.onnx`` path, or its bytes.
        threads (int, optional): ONNX Runtime's intra-op threads.
        calibration (bool): use the embedded temperature, threshold and reject score;
            without them (False, or none embedded) the temperature is 1, the
            threshold None and the score max_softmax.
        threshold (float, optional): replaces the threshold either way, as
            ``tools/infer.py --threshold`` does (in the units of ``score``).
        backend (str): ``'onnxruntime'``, ``'openvino'`` or ``'auto'`` (see
            :func:`resolve_backend`); ``backend`` then names it and the precision.

    Raises:
        ModelFileError: not a model with the metadata ``export_onnx.py`` writes.
        BackendError: see :func:`resolve_backend`.
    """

    def __init__(self, model, threads=None, calibration=True, threshold=None,
                 backend='auto'):
        name = model if isinstance(model, str) else 'the model'
        engine = resolve_backend(backend)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0  # 0: ONNX Runtime's default
        try:
            self.session = ort.InferenceSession(
                model, options, providers=['CPUExecutionProvider'])
        except Exception as err:  # onnxruntime raises its own types
            raise ModelFileError(
                f'{name}: ONNX Runtime cannot load it ({err}).') from err
        meta = self.session.get_modelmeta().custom_metadata_map
        images = self.session.get_inputs()[0]
        side = images.shape[-1]
        outputs = self.session.get_outputs()
        count = outputs[0].shape[-1]
        self.classes, self.preprocess = validate_metadata(
            meta, count if isinstance(count, int) else None,
            side if isinstance(side, int) else None, name)
        self.precision = meta.get('precision', 'fp32')
        self.backend = f'{engine} {self.precision}'
        self.calibrated = calibration and 'temperature' in meta
        self.temperature, self.threshold, self.score = check_calibration(
            meta['temperature'], meta.get('threshold'), meta.get('score', LEGACY_SCORE)
        ) if self.calibrated else (1.0, None, LEGACY_SCORE)  # validated above
        if threshold is not None:
            self.threshold = threshold_override(threshold, self.score)
        self.has_logits = [o.name for o in outputs[1:2]] == ['logits']
        if self.score != 'max_softmax' and not self.has_logits:
            raise ModelFileError(
                f'{name}: its calibration\'s {self.score} reject score needs the '
                '"logits" output, which this file (exported before it was added) '
                'lacks; export it again with tools/deploy/export_onnx.py.')
        self._run = lambda batch: self.session.run(None, {images.name: batch})
        if engine == 'openvino':
            try:
                self._run = openvino_runner(model, threads)
            except RuntimeError as err:  # openvino raises RuntimeError subclasses
                raise ModelFileError(
                    f'{name}: OpenVINO cannot compile it ({err}).') from err
        if not isinstance(count, int):  # a symbolic class axis: ask the graph
            size = self.preprocess['crop_size']
            count = self.probabilities(np.zeros((1, 3, size, size), np.float32))
            validate_metadata(meta, count.shape[-1], name=name)

    def prepare(self, rgb):
        """The model's 3xSxS float32 input for an HxWx3 uint8 RGB image.

        mmpretrain's ResizeEdge then CenterCrop, as one affine map sampled as mmcv's
        ``cv2.resize(INTER_LINEAR)`` samples (half-pixel centres, no antialiasing),
        reading only the SxS output's neighbours: memory does not grow with the image.
        """
        h, w = rgb.shape[:2]
        resize = self.preprocess['resize_edge']
        scale, edge = resize['scale'], resize['edge']
        if edge == 'short' and w < h or edge == 'long' and w > h or edge == 'width':
            width, height = scale, max(1, int(scale * h / w))
        else:
            width, height = max(1, int(scale * w / h)), scale
        size = self.preprocess['crop_size']
        left = max(0, int(round((width - size) / 2.)))
        top = max(0, int(round((height - size) / 2.)))
        y0, y1, dy, y_in = _taps(size, h / height, top, h)
        x0, x1, dx, x_in = _taps(size, w / width, left, w)
        dx = dx[None, :, None]
        rows = [rgb[y][:, x0].astype(np.float64) for y in (y0, y1)]
        rows = [a + (rgb[y][:, x1] - a) * dx for a, y in zip(rows, (y0, y1))]
        out = (rows[0] + (rows[1] - rows[0]) * dy[:, None, None]).astype(np.float32)
        out *= (y_in[:, None] & x_in[None, :])[..., None]
        return np.clip(np.rint(out.transpose(2, 0, 1)), 0, 255)

    def run(self, batch):
        """The graph's outputs (``probs``, then ``logits`` if it has them) for an
        N x 3 x S x S float32 batch of :meth:`prepare` outputs."""
        return self._run(batch)

    def probabilities(self, batch):
        """The graph's probabilities (not temperature-scaled), N x classes."""
        return self.run(batch)[0]

    def logits(self, batch):
        """The graph's logits, N x classes (files exported before they were
        carried have none: ModelFileError)."""
        if not self.has_logits:
            raise ModelFileError('the model has no "logits" output; export it again '
                                 'with tools/deploy/export_onnx.py.')
        return self.run(batch)[1]

    def answers(self, batch, topk=5):
        """The top ``topk`` classes of each image of ``batch`` by temperature-scaled
        probability, and the reject score of its logits (of ``log p`` in a file
        without them, which only max_softmax needs).

        Returns:
            list[dict]: per image ``predictions`` (``[{'class', 'label', 'score'}]``,
            best first), ``reject_score`` (the score's name), ``reject_value`` and
            ``unknown`` (whether that value is below the threshold).
        """
        outputs = self.run(batch)
        scores = apply_temperature(outputs[0], self.temperature)
        values = reject_score(outputs[1] if self.has_logits else as_logits(
            outputs[0]), self.score, self.temperature)
        return [{'predictions': [{'class': self.classes[i], 'label': int(i),
                                  'score': float(row[i])}
                                 for i in np.argsort(-row, kind='stable')[:topk]],
                 'reject_score': self.score, 'reject_value': float(value),
                 'unknown': bool(self.threshold is not None and value < self.threshold)}
                for row, value in zip(scores, values)]

    def load(self, source, max_pixels=MAX_PIXELS, name=None):
        """:func:`load_rgb`, a huge image shrunk to twice what this model's resize
        keeps."""
        recipe = self.preprocess
        side = max(recipe['resize_edge']['scale'], recipe['crop_size'])
        return load_rgb(source, max_pixels, name, min_side=2 * side)

    def classify(self, sources, topk=5, batch_size=16, max_pixels=MAX_PIXELS):
        """Classify image paths or binary file objects, ``batch_size`` at a time.

        Returns:
            list[dict]: per image, in order, :meth:`answers`' dict plus ``seconds``
            (its share of the batch's time), or ``{'error': why}`` for an image
            :meth:`load` refuses.
        """
        results = []
        for i in range(0, len(sources), batch_size):
            start = time.perf_counter()
            chunk = sources[i:i + batch_size]
            inputs, errors = [], {}
            for j, source in enumerate(chunk):
                try:
                    inputs.append(self.prepare(self.load(source, max_pixels)))
                except ImageFileError as err:
                    errors[j] = str(err).removeprefix(f'{source}: ')
            rows = iter(self.answers(np.stack(inputs), topk) if inputs else ())
            seconds = (time.perf_counter() - start) / len(chunk)
            results += [{'error': errors[j]} if j in errors else
                        dict(next(rows), seconds=seconds)
                        for j in range(len(chunk))]
        return results
