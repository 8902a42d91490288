"""A trained model in a few lines: ``Classifier(config, checkpoint)`` or
``Classifier('model.onnx')``, then ``.predict(photos, topk=3)``.

Scores are calibrated and the reject option applied as ``tools/infer.py``
does (the checkpoint's ``.calibration.json``, or what the ``.onnx`` embeds);
the answers are ``tools/infer.py``'s dicts. The ``.onnx`` form never imports
torch or mmengine.
"""
import io

import numpy as np
from PIL import Image

from .inference import checkpoint_calibration, local_files


class Classifier:
    """Classify image paths, numpy arrays or http(s) URLs.

    Args:
        model (str): A config file, or an exported ``.onnx`` model.
        checkpoint (str, optional): The trained checkpoint (with a config).
        device (str, optional): ``cpu``, ``cuda``... (checkpoints only;
            default: cuda when available).
        calibration (bool): Use the model's temperature, threshold and
            reject score when it has them (False: raw softmax scores, no
            "unknown").
        threshold (float, optional): Answer "unknown" below this reject
            score (the calibration's: energy, or the top probability),
            replacing the model's own threshold.
        **options: Further :func:`.model.build_inferencer` keywords
            (``classes``, ``cfg_options``, ``amp``...).

    Example:
        >>> clf = Classifier('configs/x.py', 'work_dirs/x/best.pth')
        >>> clf.predict('photo.jpg', topk=3)[0]['predictions'][0]['class']
        'daisy'
    """

    def __init__(self, model, checkpoint=None, device=None, calibration=True,
                 threshold=None, **options):
        if checkpoint is None:
            if not str(model).endswith('.onnx'):
                raise ValueError(f'{model}: give a config and its checkpoint,'
                                 ' or an exported .onnx model.')
            # lazy: onnxruntime only for .onnx models
            from .deploy.onnx_classifier import OnnxClassifier
            self.onnx = OnnxClassifier(model, calibration=calibration,
                                       threshold=threshold)
            self.temperature, self.threshold, self.score, self.classes = (
                self.onnx.temperature, self.onnx.threshold, self.onnx.score,
                self.onnx.classes)
            return
        # lazy: the .onnx form never imports torch or mmengine
        from .model import build_inferencer
        self.onnx = None
        self.temperature, self.threshold, self.score, _ = checkpoint_calibration(
            checkpoint, calibration, threshold)
        self.inferencer = build_inferencer(model, checkpoint, device,
                                           **options)
        self.classes = list(self.inferencer.classes or [])

    def predict(self, inputs, topk=3, batch_size=16):
        """Classify one input or a list of them.

        Args:
            inputs: A path, an http(s) URL or an HxWx3 uint8 RGB array (as
                ``np.asarray(PIL.Image.open(...).convert('RGB'))``), or a
                list of these.
            topk (int): Classes per answer.
            batch_size (int): Images per forward pass.

        Returns:
            list[dict]: per input, in order: ``path`` (the path, URL or
            ``<array i>``), ``unknown`` (reject score below the threshold),
            ``reject_score`` (its name) and ``reject_value``,
            ``predictions`` (``[{'class', 'label', 'score'}]``, best first)
            and, for an image that cannot be read, ``error``.

        Raises:
            UserInputError: a URL that cannot be downloaded (it is named).
        """
        items = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        with local_files(items) as files:
            if self.onnx is not None:
                results = self._predict_onnx(files, topk, batch_size)
            else:
                # lazy: torch only for checkpoints
                from .model import predict
                results = predict(
                    self.inferencer,
                    [np.ascontiguousarray(f[..., ::-1])  # RGB to mmcv's BGR
                     if isinstance(f, np.ndarray) else f for f in files],
                    topk, batch_size, self.temperature, self.threshold,
                    self.score)
        return [dict(path=item if isinstance(item, str) else f'<array {i}>',
                     **{k: v for k, v in result.items() if k != 'path'})
            for i, (result, item) in enumerate(zip(results, items))]

    def _predict_onnx(self, files, topk, batch_size):
        sources = []
        for f in files:
            if isinstance(f, np.ndarray):  # lossless, as the file path reads
                buffer = io.BytesIO()
                Image.fromarray(np.asarray(f, np.uint8)).save(buffer, 'PNG')
                buffer.seek(0)
                f = buffer
            sources.append(f)
        return [{'error': r['error'], 'unknown': False, 'predictions': []}
                if 'error' in r else
                {k: v for k, v in r.items() if k != 'seconds'}
                for r in self.onnx.classify(sources, topk, batch_size)]
