"""Build a trained classifier from its config and checkpoint, and classify
images with it: the one way every tool (test, infer, export, CAMs, the web
app) gets its model."""
import os.path as osp

import torch
from mmcv import imread
from mmengine.config import Config
from mmengine.runner.amp import autocast
from mmpretrain.apis import ImageClassificationInferencer, get_model

from custom_modules.engine.checkpoint_loading import load_checkpoint_file
from custom_modules.engine.hooks import keep_logits, to_channels_last
from custom_modules.engine.pretrained import train_from_scratch
from custom_modules.evaluation.calibration import (
    LEGACY_SCORE,
    apply_temperature,
    reject_score,
)
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import read_classes

from .checkpoint_fit import check_fit
from .config import load_config
from .precision import amp_dtype
from .preflight import under_root


def checked_config(config, checkpoint, cfg_options=None, allow_partial=False):
    """The config to build ``checkpoint``'s model from, checked to fit.

    Args:
        config (str | Config): A config file or a loaded config.
        checkpoint (str): The trained checkpoint; it holds every weight, so
            the config's pretrained inits are dropped.
        cfg_options (dict, optional): ``--cfg-options`` overrides.
        allow_partial (bool): Accept a checkpoint that does not fill every
            backbone and head weight.

    Returns:
        Config: the loaded config.
    """
    if not osp.isfile(checkpoint):
        raise UserInputError(f'checkpoint {checkpoint} does not exist.')
    cfg = config if isinstance(config, Config) else load_config(
        config, cfg_options)
    train_from_scratch(cfg)
    check_fit(cfg.model, checkpoint, getattr(cfg, 'filename', None) or config,
              ('backbone', 'head'), allow_partial)
    return cfg


def load_model(config, checkpoint, device=None, cfg_options=None,
               allow_partial=False):
    """A trained classifier in eval mode, its config attached as ``.cfg``.

    Args:
        config (str | Config): A config file or a loaded config.
        checkpoint (str): The trained checkpoint (read weights-only).
        device (str, optional): Where the model goes (default: cuda when
            available, else cpu).
        cfg_options (dict, optional): ``--cfg-options`` overrides.
        allow_partial (bool): See :func:`checked_config`.

    Returns:
        torch.nn.Module: mmpretrain's ``ImageClassifier``; its
        ``dataset_meta`` holds the checkpoint's class names, if any.
    """
    cfg = checked_config(config, checkpoint, cfg_options, allow_partial)
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    return get_model(cfg, pretrained=checkpoint, device=device).eval()


def model_classes(model=None, checkpoint=None, cfg=None):
    """Class names in label order, from the first source that has them.

    Args:
        model (torch.nn.Module, optional): A model from :func:`load_model`
            (its ``dataset_meta``).
        checkpoint (str, optional): A checkpoint's ``meta``.
        cfg (Config, optional): The config's ``classes.txt`` under its
            data root.

    Returns:
        list[str]: The names, or ``[]`` when no source has them.
    """
    if model is not None:
        meta = (getattr(model, '_dataset_meta', None)
                or getattr(model, 'dataset_meta', None) or {})
        if meta.get('classes'):
            return list(meta['classes'])
    if checkpoint is not None:
        meta = load_checkpoint_file(checkpoint).get('meta') or {}
        classes = (meta.get('dataset_meta') or {}).get('classes')
        if classes:
            return list(classes)
    if cfg is not None:
        dataset = (cfg.train_dataloader if cfg.get('train_dataloader')
                   else cfg.val_dataloader).dataset
        path = under_root(dataset.get('data_root', '') or '',
                          dataset.get('classes') or 'classes.txt')
        if osp.isfile(path):
            return read_classes(path)
    return []


class LogitsInferencer(ImageClassificationInferencer):
    """mmpretrain's inferencer whose results also hold ``logits`` (float32
    numpy, before the softmax: the energy reject score needs them); with
    ``amp_dtype`` (``infer.py --amp``) it runs under autocast in that dtype,
    scores back in float32 (numpy has no bfloat16)."""

    def __init__(self, *args, amp_dtype=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.amp_dtype = amp_dtype
        keep_logits(self.model)

    def forward(self, inputs, **kwargs):
        if self.amp_dtype is None:
            return super().forward(inputs, **kwargs)
        device_type = next(self.model.parameters()).device.type
        with autocast(device_type=device_type, dtype=self.amp_dtype):
            preds = super().forward(inputs, **kwargs)
        for sample in preds:
            sample.set_pred_score(sample.pred_score.float())
        return preds

    def postprocess(self, preds, visualization, return_datasamples=False):
        results = super().postprocess(preds, visualization,
                                      return_datasamples)
        if not return_datasamples:
            for result, sample in zip(results, preds):
                result['logits'] = sample.logits.cpu().numpy()
        return results


def build_inferencer(config, checkpoint, device=None, classes=None,
                     cfg_options=None, allow_partial=False, amp=False,
                     dtype=None, channels_last=False):
    """mmpretrain's inferencer; ``amp``, ``dtype`` and ``channels_last``
    as the tools' ``--amp``, ``--amp-dtype`` and ``--channels-last``."""
    cfg = checked_config(config, checkpoint, cfg_options, allow_partial)
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    inferencer = LogitsInferencer(
        cfg, pretrained=checkpoint, device=device, classes=classes,
        amp_dtype=getattr(torch, amp_dtype(dtype, torch.device(device).type))
        if amp else None)
    if channels_last:
        to_channels_last(inferencer.model)
    return inferencer


def read_image(path):
    """The image as the inferencer reads it (mmcv, BGR), or the reason it
    cannot be read."""
    try:
        img = imread(path)
    except Exception as exc:  # decoders raise many types
        return None, f'cannot read image ({type(exc).__name__}: {exc})'
    if img is None:
        return None, 'cannot decode image (corrupt, truncated or not an image)'
    return img, None


def predict(inferencer, images, topk=3, batch_size=16, temperature=1.0,
            threshold=None, score=LEGACY_SCORE):
    """``[{'path', 'unknown', 'reject_score', 'reject_value', 'predictions':
    [{'class', 'label', 'score'}...]}]``: ``reject_value`` is the reject
    ``score`` (``evaluation.calibration.REJECT_SCORES``) of the image's
    logits, ``unknown`` whether it is below ``threshold``. ``images`` are
    file paths or BGR arrays (as mmcv reads them), each decoded once, here;
    one that cannot be decoded gets ``'error'`` and no predictions.
    """
    classes = inferencer.classes
    results = []
    for start in range(0, len(images), batch_size):
        batch = [(path, *read_image(path))
                 for path in images[start:start + batch_size]]
        good = [i for i, (_, _, error) in enumerate(batch) if error is None]
        outputs = dict(zip(good, inferencer(
            [batch[i][1] for i in good], batch_size=batch_size))) if good else {}
        for i, (path, _, error) in enumerate(batch):
            if error:
                results.append({'path': path, 'error': error,
                                'unknown': False, 'predictions': []})
                continue
            scores = torch.as_tensor(apply_temperature(
                outputs[i]['pred_scores'], temperature))
            values, labels = scores.topk(min(topk, scores.numel()))
            value = float(reject_score(outputs[i]['logits'][None], score,
                                       temperature)[0])
            results.append({
                'path': path, 'unknown': bool(
                    threshold is not None and value < threshold),
                'reject_score': score, 'reject_value': value,
                'predictions': [
                {'class': classes[int(i)] if classes else str(int(i)),
                 'label': int(i), 'score': float(v)}
                for v, i in zip(values, labels)]})
    return results
