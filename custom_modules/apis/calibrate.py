"""Fit and store a checkpoint's calibration (``tools/analysis/calibrate.py``);
the arithmetic and file format are :mod:`custom_modules.evaluation.calibration`.
"""
import json
import os
import os.path as osp

import numpy as np
from mmpretrain.registry import RUNNERS
from PIL import Image

import custom_modules.evaluation.metrics  # noqa: F401  (DumpPredictions)
from custom_modules.engine.pretrained import train_from_scratch
from custom_modules.evaluation.calibration import (
    REJECT_SCORES,
    calibration_path,
    fit_calibration,
    reject_score,
)
from custom_modules.evaluation.plots import save_calibration_plots
from custom_modules.evaluation.predictions import load_predictions
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import atomic_write, check_new, file_sha256, write_json

from .config import fix_workers, for_evaluation
from .model import build_inferencer
from .preflight import check_data

# Real photos (no drawings or test patterns) that skimage ships offline.
OOD_PHOTOS = ('astronaut', 'coffee', 'chelsea', 'rocket', 'hubble_deep_field',
              'immunohistochemistry', 'retina', 'camera', 'coins', 'moon',
              'text', 'clock', 'grass', 'gravel', 'brick', 'page', 'cell')


def predict_val(cfg, checkpoint, out):
    """Run the checkpoint over the val split; predictions, with the logits,
    to ``out``."""
    for_evaluation(cfg)  # a resumed run's saved config says resume=True
    cfg.load_from = checkpoint
    train_from_scratch(cfg)
    cfg.test_dataloader = cfg.val_dataloader
    cfg.test_evaluator = [dict(type='Accuracy', topk=(1, )),
                          dict(type='DumpPredictions', out_file_path=out)]
    cfg.test_cfg = cfg.get('test_cfg') or dict(type='TestLoop')
    cfg.custom_hooks = [*(cfg.get('custom_hooks') or []),
                        dict(type='KeepLogitsHook')]
    fix_workers(cfg)
    check_data(cfg, ('test', ))
    return RUNNERS.build(cfg).test()  # runner_type: QuietRunner


def ood_photos(folder):
    """skimage's :data:`OOD_PHOTOS` written to ``folder`` as PNGs (once);
    their paths, or None without scikit-image."""
    try:
        from skimage import data  # lazy: optional, for this check only
    except ImportError:
        print('out-of-distribution check skipped: pip install scikit-image')
        return None
    os.makedirs(folder, exist_ok=True)
    paths = [osp.join(folder, f'{name}.png') for name in OOD_PHOTOS]
    for name, path in zip(OOD_PHOTOS, paths):
        if not osp.isfile(path):
            image = Image.fromarray(getattr(data, name)()).convert('RGB')
            atomic_write(path, lambda f, im=image: im.save(f, format='PNG'),
                         force=True, binary=True)
    return paths


def ood_rejection(inferencer, temperature, threshold, folder,
                  score=REJECT_SCORES[0]):
    """How many of skimage's photos (written to ``folder``) are answered
    "unknown" by the reject ``score``; None without scikit-image."""
    paths = ood_photos(folder)
    if paths is None:
        return None
    logits = np.stack([r['logits'] for r in inferencer(paths, batch_size=8)])
    conf = reject_score(logits, score, temperature)
    rejected = [name for name, c in zip(OOD_PHOTOS, conf) if c < threshold]
    return dict(photos=len(paths), rejected=len(rejected),
                rejected_share=100 * len(rejected) / len(paths),
                rejected_names=rejected)


def calibrate(cfg, checkpoint, coverage=0.95, ood=True, force=False,
              cfg_options=None, score=REJECT_SCORES[0]):
    """Fit temperature and reject threshold on val; write them to
    ``<checkpoint>.calibration.json``.

    Args:
        cfg: the loaded config; val predictions, plots and the OOD photos go
            to its ``work_dir``.
        checkpoint: the ``.pth`` to calibrate.
        coverage: share of val the reject threshold answers, in (0, 1].
        ood: also report the share of skimage's photos rejected.
        force: replace an existing calibration file.
        cfg_options: the config overrides, for the OOD check's inferencer.
        score: the reject score thresholded (``REJECT_SCORES``).

    Returns:
        dict: what the file holds.
    """
    if not osp.isfile(checkpoint):
        raise UserInputError(f'checkpoint {checkpoint} does not exist.')
    out_json = calibration_path(checkpoint)
    check_new(out_json, force)
    preds = osp.join(cfg.work_dir, 'val_predictions.json')
    if osp.exists(preds):
        os.remove(preds)  # ours, from an earlier calibration
    predict_val(cfg, checkpoint, preds)
    probs, labels = (t.numpy() for t in load_predictions(preds)[:2])
    with open(preds, encoding='utf-8') as f:
        logits = np.array([s['logits'] for s in json.load(f)['samples']])
    result = fit_calibration(probs, labels, coverage, logits, score)
    plots = save_calibration_plots(
        cfg.work_dir, 'val', probs, labels, result['temperature'],
        result['threshold'], score=reject_score(logits, score,
                                                result['temperature']))
    rejection = ood and ood_rejection(
        build_inferencer(cfg.filename, checkpoint, cfg_options=cfg_options),
        result['temperature'], result['threshold'],
        osp.join(cfg.work_dir, 'ood_photos'), score)
    result.update(target_coverage=coverage,
                  checkpoint=osp.basename(checkpoint),
                  checkpoint_sha256=file_sha256(checkpoint),
                  out_of_distribution=rejection or None, plots=plots)
    write_json(out_json, result, force)
    print(calibration_summary(result, out_json))
    return result


def calibration_summary(result, path):
    """:func:`calibrate`'s findings, as lines for the terminal."""
    val, before, after = result['val'], result['val']['before'], \
        result['val']['after']
    lines = [
        f'temperature T = {result["temperature"]:.4f} (fitted on '
        f'{val["images"]} val images; accuracy {val["accuracy"]:.2f} %, '
        'unchanged by T)',
        f'  val ECE:   {before["ece"]:.2f} % -> {after["ece"]:.2f} %',
        f'  val NLL:   {before["nll"]:.4f} -> {after["nll"]:.4f}',
        f'  val Brier: {before["brier"]:.4f} -> {after["brier"]:.4f}',
        f'reject threshold {result["threshold"]:.4f} of the '
        f'{result["score"]} score for '
        f'{100 * result["target_coverage"]:.0f} % coverage: '
        f'{val["coverage"]:.1f} % of val answered, {val["selective_acc"]:.2f}'
        ' % of those right']
    ood = result['out_of_distribution']
    if ood:
        lines.append(
            f'out-of-distribution photos (skimage.data): {ood["rejected"]} of '
            f'{ood["photos"]} rejected ({ood["rejected_share"]:.0f} %)')
    return '\n'.join(lines + [f'wrote {p}'
                              for p in (path, *result['plots'].values())])
