"""Classify photos with an exported ONNX model, without PyTorch.

Imports only onnxruntime, numpy, Pillow and the numpy-only
``evaluation.calibration`` (an import-linter contract keeps torch and mmengine
out): with a ``.onnx`` from ``tools/deploy/export_onnx.py``, that is all a
consumer needs. The model's metadata_props say what the config would: ``classes`` (JSON
list, index = output column), ``preprocess`` (JSON, the test pipeline's ResizeEdge then
CenterCrop) and, when calibrated, ``temperature`` and ``threshold``. Its input
``images`` is float32 RGB NCHW 0-255 (normalisation is inside the graph), its output
``probs`` the softmax probabilities.
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
    """Decode an image to an HxWx3 uint8 RGB array, EXIF orientation applied (as cv2).

    Args:
        source (str | file): a path or a binary file object.
        max_pixels (int, optional): larger images are refused before decoding.
        name (str, optional): names the image in errors (default: the path).
    """
    name = name or (source if isinstance(source, str) else 'upload')
    try:
        with Image.open(source) as image:
            if max_pixels and image.width * image.height > max_pixels:
                raise ImageFileError(
                    f'{name}: {image.width} x {image.height} pixels is over the limit '
                    f'of {max_pixels:,}; send a smaller image.')
            return np.asarray(ImageOps.exif_transpose(image).convert('RGB'))
    except ImageFileError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise ImageFileError(
            f'{name}: not an image that can be read (JPEG, PNG, BMP, TIFF, WebP...): '
            f'{type(err).__name__}.') from err


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
    """An exported model, loaded once; thread-safe, as ONNX Runtime sessions are.

    Args:
        model (str | bytes): the ``.onnx`` path, or its bytes.
        threads (int, optional): ONNX Runtime's intra-op threads.
        calibration (bool): use the embedded temperature and threshold; without them
            (False, or none embedded) the temperature is 1 and the threshold None.
        threshold (float, optional): replaces the threshold either way, as
            ``tools/infer.py --threshold`` does.

    Raises:
        ModelFileError: not a model with the metadata ``export_onnx.py`` writes.
    """

    def __init__(self, model, threads=None, calibration=True, threshold=None):
        name = model if isinstance(model, str) else 'the model'
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(
                model, options, providers=['CPUExecutionProvider'])
        except Exception as err:  # onnxruntime raises its own types
            raise ModelFileError(
                f'{name}: ONNX Runtime cannot load it ({err}).') from err
        meta = self.session.get_modelmeta().custom_metadata_map
        missing = {'classes', 'preprocess'} - set(meta)
        if missing:
            raise ModelFileError(
                f'{name} has no {", ".join(sorted(missing))} metadata; export it with '
                'tools/deploy/export_onnx.py.')
        self.classes = json.loads(meta['classes'])
        self.preprocess = json.loads(meta['preprocess'])
        embedded = _calibration(meta, name) if calibration else None
        self.calibrated = embedded is not None
        self.temperature, self.threshold = embedded or (1.0, None)
        if threshold is not None:
            self.threshold = float(threshold)
        self.input_name = self.session.get_inputs()[0].name

    def prepare(self, rgb):
        """The model's 3xSxS float32 input for an HxWx3 uint8 RGB image.

        mmpretrain's ResizeEdge then CenterCrop, as one affine transform that samples
        as mmcv's ``cv2.resize(INTER_LINEAR)`` does (half-pixel centres, no
        antialiasing); float planes keep Pillow from truncating to uint8.
        """
        h, w = rgb.shape[:2]
        resize = self.preprocess['resize_edge']
        scale, edge = resize['scale'], resize['edge']
        if edge == 'short' and w < h or edge == 'long' and w > h or edge == 'width':
            width, height = scale, int(scale * h / w)
        else:
            width, height = int(scale * w / h), scale
        size = self.preprocess['crop_size']
        left = max(0, int(round((width - size) / 2.)))
        top = max(0, int(round((height - size) / 2.)))
        sx, sy = w / width, h / height
        matrix = (sx, 0, left * sx, 0, sy, top * sy)
        planes = [Image.fromarray(plane).transform(
            (size, size), Image.Transform.AFFINE, matrix, Image.Resampling.BILINEAR)
            for plane in rgb.astype(np.float32).transpose(2, 0, 1)]
        return np.clip(np.rint(np.stack(planes)), 0, 255)

    def probabilities(self, batch):
        """The graph's probabilities (not temperature-scaled), N x classes, for an
        N x 3 x S x S float32 batch of :meth:`prepare` outputs."""
        return self.session.run(None, {self.input_name: batch})[0]

    def scores(self, batch):
        """:meth:`probabilities`, temperature-scaled (float64)."""
        return apply_temperature(self.probabilities(batch), self.temperature)

    def classify(self, sources, topk=5, batch_size=16):
        """Classify image paths or binary file objects, ``batch_size`` at a time.

        Returns:
            list[dict]: per image, in order, :meth:`answer`'s dict plus ``seconds``
            (its share of the batch's time).
        """
        results = []
        for i in range(0, len(sources), batch_size):
            start = time.perf_counter()
            chunk = sources[i:i + batch_size]
            scores = self.scores(np.stack([self.prepare(load_rgb(s)) for s in chunk]))
            seconds = (time.perf_counter() - start) / len(chunk)
            results += [dict(self.answer(row, topk), seconds=seconds) for row in scores]
        return results

    def answer(self, scores, topk=5):
        """The top ``topk`` of one row of :meth:`scores`.

        Returns:
            dict: ``predictions`` (``[{'class', 'label', 'score'}]``, best first) and
            ``unknown`` (whether the top score is below the threshold).
        """
        order = np.argsort(-scores, kind='stable')[:topk]
        predictions = [{'class': self.classes[i], 'label': int(i),
                        'score': float(scores[i])} for i in order]
        return {'predictions': predictions, 'unknown': bool(
            self.threshold is not None and predictions[0]['score'] < self.threshold)}
