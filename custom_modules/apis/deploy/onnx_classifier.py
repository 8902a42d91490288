"""Classify photos with an exported ONNX model, without PyTorch.

Imports only onnxruntime, numpy and Pillow (and the numpy-only
``evaluation.calibration``), so a machine with just those three can use a
model from ``tools/deploy/export_onnx.py``. The model file
carries what the config would otherwise say (metadata_props):

* ``classes``: JSON list of class names, index = output column;
* ``preprocess``: JSON ``{"resize_edge": {"scale", "edge"}, "crop_size"}``,
  the config's test pipeline (ResizeEdge, then CenterCrop);
* input ``images``: float32 RGB, NCHW, values 0-255, any batch size; output
  ``probs``: softmax probabilities (normalisation is inside the graph);
* ``temperature`` and ``threshold`` (optional, from the checkpoint's
  ``.calibration.json``): scores are ``softmax(log probs / temperature)``,
  and a photo whose top score is below ``threshold`` is answered "unknown",
  as ``tools/infer.py CONFIG CHECKPOINT`` does with that file.

The resize reproduces mmcv's ``cv2.resize(INTER_LINEAR)`` (half-pixel
centres, no antialiasing) in numpy, and images are decoded with EXIF
orientation applied as cv2 does, so inputs match the PyTorch pipeline's up
to JPEG-decoder and rounding differences of about one grey level.
"""
import json
import time

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

from custom_modules.evaluation.calibration import apply_temperature, check_calibration

INPUT_LAYOUT = 'float32 RGB NCHW 0-255'


class ModelFileError(ValueError):
    """The file is not a classifier written by export_onnx.py."""


class ImageFileError(ValueError):
    """A file that Pillow cannot read as an image."""


def load_rgb(source, max_pixels=None, name=None):
    """An HxWx3 uint8 RGB array from a path or a binary file object;
    images over ``max_pixels`` are refused before they are decoded.
    ``name`` (default: the path) names the image in errors."""
    name = name or (source if isinstance(source, str) else 'upload')
    try:
        with Image.open(source) as image:
            if max_pixels and image.width * image.height > max_pixels:
                raise ImageFileError(
                    f'{name}: {image.width} x {image.height} pixels is over '
                    f'the limit of {max_pixels:,}; send a smaller image.')
            image = ImageOps.exif_transpose(image)
            return np.asarray(image.convert('RGB'))
    except ImageFileError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) \
            as err:
        raise ImageFileError(
            f'{name}: not an image that can be read (JPEG, PNG, BMP, TIFF, '
            f'WebP...): {type(err).__name__}.') from err


def _linear_taps(src, dst):
    """Source indices and weights of cv2's INTER_LINEAR along one axis."""
    pos = (np.arange(dst) + 0.5) * (src / dst) - 0.5
    left = np.floor(pos).astype(np.int64)
    frac = pos - left
    frac[left < 0] = 0
    left = np.clip(left, 0, src - 1)
    right = np.minimum(left + 1, src - 1)
    frac[left >= src - 1] = 0
    return left, right, frac.astype(np.float32)


def resize_bilinear(image, width, height):
    """``cv2.resize(image, (width, height))`` (INTER_LINEAR) in numpy."""
    h, w = image.shape[:2]
    y0, y1, fy = _linear_taps(h, height)
    x0, x1, fx = _linear_taps(w, width)
    img = image.astype(np.float32)
    rows = (img[y0] * (1 - fy)[:, None, None] + img[y1] * fy[:, None, None])
    out = (rows[:, x0] * (1 - fx)[None, :, None]
           + rows[:, x1] * fx[None, :, None])
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def resize_edge(image, scale, edge='short'):
    """mmpretrain's ResizeEdge: that edge becomes ``scale`` pixels."""
    h, w = image.shape[:2]
    if edge == 'short':
        edge = 'width' if w < h else 'height'
    elif edge == 'long':
        edge = 'width' if w > h else 'height'
    if edge == 'width':
        size = (scale, int(scale * h / w))
    else:
        size = (int(scale * w / h), scale)
    return resize_bilinear(image, *size)


def center_crop(image, size):
    """mmcv's CenterCrop for a square ``size`` no larger than the image."""
    h, w = image.shape[:2]
    top = max(0, int(round((h - size) / 2.)))
    left = max(0, int(round((w - size) / 2.)))
    return image[top:top + size, left:left + size]


def _calibration(meta, name):
    """(temperature, threshold or None) from the metadata; None when the
    model carries none."""
    if 'temperature' not in meta:
        return None
    try:
        return check_calibration(meta['temperature'], meta.get('threshold'))
    except ValueError as err:
        raise ModelFileError(f'{name}: calibration metadata {err}; export it '
                             'again.') from err


class OnnxClassifier:
    """An exported model, loaded once; thread-safe (ONNX Runtime sessions
    may be run from several threads).

    ``temperature`` and ``threshold`` are the model's embedded calibration,
    or 1 and None with ``calibration=False``; a ``threshold`` argument
    replaces the threshold either way (as ``tools/infer.py --threshold``).
    """

    def __init__(self, model, threads=None, calibration=True,
                 threshold=None):
        """``model``: the .onnx path, or its bytes."""
        name = model if isinstance(model, str) else 'the model'
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(
                model, options, providers=['CPUExecutionProvider'])
        except Exception as err:  # onnxruntime raises its own types
            raise ModelFileError(f'{name}: ONNX Runtime cannot load it '
                                 f'({err}).') from err
        meta = self.session.get_modelmeta().custom_metadata_map
        missing = {'classes', 'preprocess'} - set(meta)
        if missing:
            raise ModelFileError(
                f'{name} has no {", ".join(sorted(missing))} metadata; '
                'export it with tools/deploy/export_onnx.py.')
        self.classes = json.loads(meta['classes'])
        self.preprocess = json.loads(meta['preprocess'])
        embedded = _calibration(meta, name) if calibration else None
        # calibrated: the scores are the model's temperature-scaled ones.
        self.calibrated = embedded is not None
        self.temperature, self.threshold = embedded or (1.0, None)
        if threshold is not None:
            self.threshold = float(threshold)
        self.input_name = self.session.get_inputs()[0].name

    def prepare(self, rgb):
        """HxWx3 uint8 RGB -> the model's 3xSxS float32 input."""
        edge = self.preprocess['resize_edge']
        image = resize_edge(rgb, edge['scale'], edge['edge'])
        image = center_crop(image, self.preprocess['crop_size'])
        return image.transpose(2, 0, 1).astype(np.float32)

    def probabilities(self, batch):
        """N x 3 x S x S float32 RGB 0-255 -> N x classes probabilities,
        as the graph gives them (not temperature-scaled)."""
        return self.session.run(None, {self.input_name: batch})[0]

    def scores(self, batch):
        """:meth:`probabilities`, temperature-scaled (float64)."""
        return apply_temperature(self.probabilities(batch), self.temperature)

    def classify(self, sources, topk=5, batch_size=16):
        """``[{'predictions': [{'class', 'label', 'score'}...], 'unknown',
        'seconds'}]`` for image paths or file objects, in order."""
        results = []
        for i in range(0, len(sources), batch_size):
            start = time.perf_counter()
            chunk = sources[i:i + batch_size]
            batch = np.stack([self.prepare(load_rgb(s)) for s in chunk])
            scores = self.scores(batch)
            seconds = (time.perf_counter() - start) / len(chunk)
            results += [dict(self.answer(p, topk), seconds=seconds)
                        for p in scores]
        return results

    def answer(self, scores, topk=5):
        """``{'predictions': top-k, 'unknown'}`` for one row of
        :meth:`scores`; unknown when the top score is below the
        threshold."""
        predictions = self.top(scores, topk)
        return {'predictions': predictions, 'unknown': bool(
            self.threshold is not None
            and predictions[0]['score'] < self.threshold)}

    def top(self, probs, topk=5):
        order = np.argsort(-probs, kind='stable')[:topk]
        return [{'class': self.classes[i], 'label': int(i),
                 'score': float(probs[i])} for i in order]
