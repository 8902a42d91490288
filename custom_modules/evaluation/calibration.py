"""Calibration: temperature scaling, its figures and ``calibration.json``.

The one home of calibration, numpy only (no torch), so the exported ONNX
model reads and applies it torch-free. Inputs are the softmax ``pred_score``
rows mmpretrain's heads return (numpy arrays, or anything ``np.asarray``
takes); their logarithm stands in for the logits, since softmax ignores a
per-row constant, so ``softmax(log p / T)`` is temperature scaling.

``tools/analysis/calibrate.py`` writes ``<checkpoint>.calibration.json``;
``tools/test.py``, ``infer.py``, ``serve.py`` and ``deploy/export_onnx.py``
(which embeds it) read it when it is there.
"""
import json
import math
import os.path as osp

import numpy as np

from custom_modules.utils.errors import UserInputError


def as_logits(probs):
    """``log p`` in float64, zeros (float32 underflow) clamped to the
    smallest float32 so that every image keeps a finite loss."""
    probs = np.asarray(probs, dtype=np.float64)
    return np.log(np.maximum(probs, np.finfo(np.float32).tiny))


def apply_temperature(probs, temperature):
    """Rows of ``softmax(log p / T)``: the same ranking, softer when T > 1."""
    if temperature == 1:
        return np.asarray(probs, dtype=np.float64)
    logits = as_logits(probs) / temperature
    scaled = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return scaled / scaled.sum(axis=-1, keepdims=True)


def _top1(probs, labels):
    """Top-1 confidence and correctness of each row."""
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels).reshape(-1)
    return probs.max(axis=1), probs.argmax(axis=1) == labels


def reliability_bins(probs, labels, num_bins=15):
    """Mean confidence, accuracy and image count of equal-width bins
    ``(i/B, (i+1)/B]`` (0 where a bin is empty)."""
    conf, correct = _top1(probs, labels)
    edges = np.linspace(0, 1, num_bins + 1)
    index = np.searchsorted(edges[1:-1], conf, side='left')
    counts = np.bincount(index, minlength=num_bins).astype(np.float64)
    safe = np.maximum(counts, 1)
    confidence = np.bincount(index, conf, minlength=num_bins) / safe
    accuracy = np.bincount(index, correct, minlength=num_bins) / safe
    return confidence, accuracy, counts


def expected_calibration_error(probs, labels, num_bins=15):
    """Top-1 ECE: the confidence-accuracy gap of each bin, weighted by its
    share of the images. A fraction in [0, 1]."""
    confidence, accuracy, counts = reliability_bins(probs, labels, num_bins)
    return float((np.abs(confidence - accuracy) * counts).sum()
                 / counts.sum())


def negative_log_likelihood(probs, labels):
    """Mean ``-log p(true class)``."""
    labels = np.asarray(labels).reshape(-1, 1)
    return float(-np.take_along_axis(as_logits(probs), labels, 1).mean())


def brier_score(probs, labels):
    """Mean squared distance to the one-hot label, summed over classes
    (0 is perfect, 2 the worst)."""
    probs = np.asarray(probs, dtype=np.float64)
    onehot = np.eye(probs.shape[1])[np.asarray(labels).reshape(-1)]
    return float(((probs - onehot) ** 2).sum(axis=1).mean())


def ece_nll_brier(probs, labels, num_bins=15):
    """``{'ece' (%), 'nll', 'brier'}`` of the scores."""
    return dict(ece=100 * expected_calibration_error(probs, labels, num_bins),
                nll=negative_log_likelihood(probs, labels),
                brier=brier_score(probs, labels))


def fit_temperature(probs, labels):
    """The scalar T > 0 that minimises the NLL of ``softmax(log p / T)``.

    The NLL is convex in 1/T; Brent's method searches log T in
    [log 0.01, log 100].
    """
    # lazy: fitting happens on the torch side; the ONNX path needs numpy only
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax
    logits = as_logits(probs)
    labels = np.asarray(labels).reshape(-1, 1)

    def nll(log_t):
        log_p = log_softmax(logits / math.exp(log_t), axis=1)
        return -np.take_along_axis(log_p, labels, 1).mean()

    result = minimize_scalar(nll, bounds=(math.log(0.01), math.log(100)),
                             method='bounded', options=dict(xatol=1e-6))
    return math.exp(result.x)


def threshold_for_coverage(confidences, coverage):
    """The highest confidence threshold that still answers at least
    ``coverage`` of the images (answer when confidence >= threshold)."""
    if not 0 < coverage <= 1:
        raise ValueError(f'coverage {coverage} must be in (0, 1]')
    ordered = np.sort(np.asarray(confidences, dtype=np.float64))[::-1]
    keep = max(1, math.ceil(coverage * len(ordered) - 1e-9))
    return float(ordered[keep - 1])


def selective_accuracy(probs, labels, threshold):
    """Share answered (confidence >= threshold) and accuracy on those."""
    conf, correct = _top1(probs, labels)
    answered = conf >= threshold
    accuracy = float(correct[answered].mean()) if answered.any() else math.nan
    return float(answered.mean()), accuracy


def risk_coverage(probs, labels):
    """Coverage and error rate when answering only the k most confident
    images, for k = 1..N (the risk-coverage curve)."""
    conf, correct = _top1(probs, labels)
    wrong = ~correct[np.argsort(-conf, kind='stable')]
    k = np.arange(1, len(wrong) + 1)
    return k / len(wrong), np.cumsum(wrong) / k


def fit_calibration(probs, labels, coverage):
    """Temperature and reject threshold fitted on val, with the figures.

    Args:
        probs: (N, C) softmax scores of the val images.
        labels: (N,) true labels.
        coverage: share of the images the threshold answers, in (0, 1].

    Returns:
        dict: ``temperature``, ``threshold`` and ``val`` (images, accuracy,
        ``before``/``after`` :func:`ece_nll_brier`, coverage and
        selective accuracy in %), as ``calibration.json`` stores them.
    """
    temperature = fit_temperature(probs, labels)
    scaled = apply_temperature(probs, temperature)
    threshold = threshold_for_coverage(scaled.max(axis=1), coverage)
    answered, accuracy = selective_accuracy(scaled, labels, threshold)
    _, correct = _top1(probs, labels)
    return dict(temperature=temperature, threshold=threshold, val=dict(
        images=len(correct), accuracy=100 * float(correct.mean()),
        before=ece_nll_brier(probs, labels),
        after=ece_nll_brier(scaled, labels),
        coverage=100 * answered, selective_acc=100 * accuracy))


def check_calibration(temperature, threshold=None):
    """``(temperature, threshold or None)`` as floats.

    Raises:
        ValueError: naming a value that is unreadable or out of range.
    """
    temperature = float(temperature)
    threshold = None if threshold in (None, '') else float(threshold)
    if not temperature > 0 or not (threshold is None or 0 <= threshold <= 1):
        raise ValueError(f'temperature={temperature}, threshold={threshold} '
                         '(need temperature > 0, threshold in [0, 1])')
    return temperature, threshold


def calibration_path(checkpoint):
    """Where the calibration of ``checkpoint`` is stored."""
    return checkpoint + '.calibration.json'


def read_calibration(checkpoint):
    """The stored calibration of ``checkpoint``, or None if it has none.

    Returns:
        dict | None: the file's content with ``path`` added and a checked
        float ``temperature`` and ``threshold`` (None: no reject option).
    """
    path = calibration_path(checkpoint)
    if not osp.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as f:
            calibration = json.load(f)
        temperature, threshold = check_calibration(
            calibration['temperature'], calibration.get('threshold'))
    except (ValueError, KeyError, TypeError) as exc:
        raise UserInputError(
            f'{path}: not a valid calibration, {type(exc).__name__}: {exc}. '
            'Rewrite it with python tools/analysis/calibrate.py CONFIG '
            'CHECKPOINT --force, or delete it.') from exc
    return dict(calibration, path=path, temperature=temperature,
                threshold=threshold)


def apply_calibration(cfg, calibration, tag='test', out_dir=None):
    """Let the test evaluator's CalibrationMetric report the scaled figures
    and the reject option, and name its plots ``*_<tag>.png``."""
    evaluators = cfg.get('test_evaluator') or []
    if isinstance(evaluators, dict):
        evaluators = [evaluators]
    for metric in evaluators:
        if metric.get('type') != 'CalibrationMetric':
            continue
        metric.update(tag=tag)
        if out_dir:
            metric.update(out_dir=out_dir)
        if calibration:
            metric.update(temperature=calibration['temperature'],
                          threshold=calibration['threshold'])


def add_calibration_args(parser):
    """``--no-calibration`` and ``--threshold``, as infer.py and serve.py
    take them; check the result with :func:`check_threshold`."""
    parser.add_argument('--no-calibration', action='store_true',
                        help='ignore the calibration (<checkpoint>.'
                        'calibration.json, or the one embedded in a .onnx): '
                        'raw scores, never "unknown"')
    parser.add_argument('--threshold', type=float,
                        help='answer "unknown" below this top score '
                        '(default: the calibration\'s)')


def check_threshold(args):
    """``args``, after refusing a ``--threshold`` outside [0, 1]."""
    if args.threshold is not None and not 0 <= args.threshold <= 1:
        raise UserInputError(f'--threshold {args.threshold}: a score in '
                             '[0, 1].')
    return args
