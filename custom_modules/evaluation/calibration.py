"""Calibration, numpy only so that the torch-free ONNX path uses it too.

Scores are the softmax ``pred_score`` rows of mmpretrain's heads (anything
``np.asarray`` takes); ``log p`` stands in for the logits, since softmax
ignores a per-row constant. The reject option answers a photo when its
reject score (:data:`REJECT_SCORES`, energy by default) is at least the
threshold; energy needs the raw logits. ``tools/analysis/calibrate.py``
writes ``<checkpoint>.calibration.json``; test, infer, serve and export
read it.
"""
import json
import math
import os.path as osp
import sys

import numpy as np

from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import file_sha256

# What the reject option thresholds; the first is the default. A calibration
# file without ``score`` (written before energy was carried) is max_softmax.
REJECT_SCORES = ('energy', 'max_softmax')
LEGACY_SCORE = 'max_softmax'


def as_logits(probs):
    """``log p`` in float64; zeros (float32 underflow) become the smallest
    float32, so every image keeps a finite loss."""
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
    probs = np.asarray(probs, dtype=np.float64)
    return probs.max(axis=1), probs.argmax(axis=1) == np.ravel(labels)


def reliability_bins(probs, labels, num_bins=15):
    """Mean confidence, accuracy and count of the bins ``(i/B, (i+1)/B]``
    (0 where empty)."""
    conf, correct = _top1(probs, labels)
    index = np.searchsorted(np.linspace(0, 1, num_bins + 1)[1:-1], conf)
    counts = np.bincount(index, minlength=num_bins).astype(np.float64)
    safe = np.maximum(counts, 1)
    return (np.bincount(index, conf, minlength=num_bins) / safe,
            np.bincount(index, correct, minlength=num_bins) / safe, counts)


def expected_calibration_error(probs, labels, num_bins=15):
    """Top-1 ECE, a fraction: the bins' confidence-accuracy gaps, weighted
    by their share of the images."""
    confidence, accuracy, counts = reliability_bins(probs, labels, num_bins)
    return float(np.abs(confidence - accuracy) @ counts / counts.sum())


def negative_log_likelihood(probs, labels):
    """Mean ``-log p(true class)``."""
    labels = np.asarray(labels).reshape(-1, 1)
    return float(-np.take_along_axis(as_logits(probs), labels, 1).mean())


def brier_score(probs, labels):
    """Mean squared distance to the one-hot label (0 perfect, 2 worst)."""
    probs = np.asarray(probs, dtype=np.float64)
    onehot = np.eye(probs.shape[1])[np.ravel(labels)]
    return float(((probs - onehot) ** 2).sum(axis=1).mean())


def fit_temperature(probs, labels):
    """The T in [0.01, 100] that minimises the NLL of ``softmax(log p / T)``
    (convex in 1/T; Brent's method on log T)."""
    # lazy: only fitting needs scipy, the ONNX path needs numpy alone
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax
    logits, labels = as_logits(probs), np.asarray(labels).reshape(-1, 1)

    def nll(log_t):
        log_p = log_softmax(logits / math.exp(log_t), axis=1)
        return -np.take_along_axis(log_p, labels, 1).mean()

    return math.exp(minimize_scalar(
        nll, bounds=(math.log(0.01), math.log(100)), method='bounded',
        options=dict(xatol=1e-6)).x)


def threshold_for_coverage(confidences, coverage):
    """The highest threshold that answers (confidence >= threshold) at least
    ``coverage`` of the images."""
    if not 0 < coverage <= 1:
        raise ValueError(f'coverage {coverage} must be in (0, 1]')
    ordered = np.sort(np.asarray(confidences, dtype=np.float64))[::-1]
    keep = max(1, math.ceil(coverage * len(ordered) - 1e-9))
    return float(ordered[keep - 1])


def selective_accuracy(probs, labels, threshold, score=None):
    """Share answered (``score``, default the top probability, >=
    threshold) and accuracy on those."""
    conf, correct = _top1(probs, labels)
    answered = (conf if score is None else np.asarray(score)) >= threshold
    accuracy = float(correct[answered].mean()) if answered.any() else math.nan
    return float(answered.mean()), accuracy


def energy_score(logits, temperature=1.0):
    """``T * logsumexp(logits / T)`` per row (higher: more familiar). Needs
    the raw logits: unlike softmax, it is not blind to a per-row constant."""
    logits = np.asarray(logits, dtype=np.float64) / temperature
    top = logits.max(axis=1)
    return temperature * (top + np.log(np.exp(logits - top[:, None]).sum(1)))


def reject_score(logits, score, temperature=1.0):
    """Per row, the reject option's ``score`` (:data:`REJECT_SCORES`) of
    ``logits``: energy, or the top of ``softmax(logits / T)``. For
    max_softmax, ``as_logits(probs)`` serves as well as the logits."""
    if score == 'energy':
        return energy_score(logits, temperature)
    if score == 'max_softmax':
        logits = np.asarray(logits, dtype=np.float64) / temperature
        return 1 / np.exp(logits - logits.max(1, keepdims=True)).sum(1)
    raise ValueError(f'reject score {score!r}: one of '
                     f'{", ".join(REJECT_SCORES)}')


def fit_mahalanobis(features, labels):
    """Class means and the pseudo-inverse of the shared (within-class)
    covariance of pooled features, for :func:`mahalanobis_score`."""
    features = np.asarray(features, dtype=np.float64)
    labels = np.ravel(labels)
    classes = np.unique(labels)
    means = np.stack([features[labels == c].mean(0) for c in classes])
    centred = features - means[np.searchsorted(classes, labels)]
    covariance = centred.T @ centred / len(features)
    return dict(means=means, precision=np.linalg.pinv(covariance,
                                                      hermitian=True))


def mahalanobis_score(features, fit):
    """Minus the squared Mahalanobis distance to the nearest class mean
    (higher: more familiar)."""
    diff = (np.asarray(features, dtype=np.float64)[:, None]
            - fit['means'][None])
    return -((diff @ fit['precision']) * diff).sum(-1).min(1)


def risk_coverage(probs, labels, score=None):
    """Coverage and error rate answering only the k images of highest
    ``score`` (default: the top probability), k = 1..N."""
    conf, correct = _top1(probs, labels)
    conf = conf if score is None else np.asarray(score)
    wrong = ~correct[np.argsort(-conf, kind='stable')]
    k = np.arange(1, len(wrong) + 1)
    return k / len(wrong), np.cumsum(wrong) / k


def evaluate_calibration(probs, labels, temperature=1.0, threshold=None,
                         num_bins=15, score=None):
    """The figures the metric logs and ``calibration.json`` stores.

    Args:
        score (array, optional): Per image, the reject score ``threshold``
            applies to (default: the top scaled probability).

    Returns:
        dict: ``images``, ``accuracy`` (%), ``before`` and ``after`` scaling
        ``{ece (%), nll, brier}``; with a threshold, ``coverage`` and
        ``selective_acc`` (%).
    """
    _, correct = _top1(probs, labels)
    result = dict(images=len(correct), accuracy=100 * float(correct.mean()))
    scaled = apply_temperature(probs, temperature)
    for key, scores in (('before', probs), ('after', scaled)):
        result[key] = dict(
            ece=100 * expected_calibration_error(scores, labels, num_bins),
            nll=negative_log_likelihood(scores, labels),
            brier=brier_score(scores, labels))
    if threshold is not None:
        answered, accuracy = selective_accuracy(scaled, labels, threshold,
                                                score)
        result.update(coverage=100 * answered, selective_acc=100 * accuracy)
    return result


def fit_calibration(probs, labels, coverage, logits=None,
                    score=REJECT_SCORES[0]):
    """``{score, temperature, threshold, val}`` fitted on val: the threshold
    of the reject ``score`` (of ``logits``; max_softmax can do with
    ``probs``) answers ``coverage`` of val; ``val`` is
    :func:`evaluate_calibration`."""
    if logits is None and score != 'max_softmax':
        raise ValueError(f'the {score} reject score needs the logits')
    temperature = fit_temperature(probs, labels)
    values = reject_score(as_logits(probs) if logits is None else logits,
                          score, temperature)
    threshold = threshold_for_coverage(values, coverage)
    return dict(score=score, temperature=temperature, threshold=threshold,
                val=evaluate_calibration(probs, labels, temperature,
                                         threshold, score=values))


def check_calibration(temperature, threshold=None, score=LEGACY_SCORE):
    """``(temperature, threshold or None, score)``, the numbers as floats; a
    ValueError names an unreadable or out-of-range value (a max_softmax
    threshold is a probability, an energy one any finite number)."""
    temperature = float(temperature)
    threshold = None if threshold in (None, '') else float(threshold)
    if score not in REJECT_SCORES:
        raise ValueError(f'score={score!r} (need one of '
                         f'{", ".join(REJECT_SCORES)})')
    low, high = (0, 1) if score == 'max_softmax' else (-math.inf, math.inf)
    if not temperature > 0 or not (threshold is None
                                   or low <= threshold <= high):
        raise ValueError(f'temperature={temperature}, threshold={threshold} '
                         f'(need temperature > 0, a {score} threshold in '
                         f'[{low:g}, {high:g}])')
    return temperature, threshold, score


def calibration_path(checkpoint):
    return checkpoint + '.calibration.json'


def made_from(data, checkpoint, path):
    """Whether a derived file's ``checkpoint_sha256`` (if it has one) is
    that of ``checkpoint``; a mismatch (a file left from an earlier run
    whose best checkpoint had the same name) is said on stderr."""
    stored = data.get('checkpoint_sha256') if isinstance(data, dict) else None
    if not stored or not osp.isfile(checkpoint) \
            or stored == file_sha256(checkpoint):
        return True
    print(f'warning: {path} was made from another checkpoint than '
          f'{checkpoint} (its SHA-256 differs): ignored. Make it again for '
          'this checkpoint.', file=sys.stderr)
    return False


def read_calibration(checkpoint):
    """The checkpoint's calibration file with ``path`` added and checked
    ``temperature``, ``threshold`` (None: no reject option) and ``score``
    (max_softmax in a file written before it was stored); None if it has
    none, or if it was made from another checkpoint (said on stderr)."""
    path = calibration_path(checkpoint)
    if not osp.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as f:
            calibration = json.load(f)
        temperature, threshold, score = check_calibration(
            calibration['temperature'], calibration.get('threshold'),
            calibration.get('score', LEGACY_SCORE))
    except (ValueError, KeyError, TypeError) as exc:
        raise UserInputError(
            f'{path}: not a valid calibration, {type(exc).__name__}: {exc}. '
            'Rewrite it with python tools/analysis/calibrate.py CONFIG '
            'CHECKPOINT --force, or delete it.') from exc
    if not made_from(calibration, checkpoint, path):
        return None
    return dict(calibration, path=path, temperature=temperature,
                threshold=threshold, score=score)


def apply_calibration(cfg, calibration, tag='test', out_dir=None):
    """Let the test evaluator's CalibrationMetric report the scaled figures
    and the reject option, and name its plots ``*_<tag>.png``."""
    evaluators = cfg.get('test_evaluator') or []
    for metric in [evaluators] if isinstance(evaluators, dict) else evaluators:
        if metric.get('type') != 'CalibrationMetric':
            continue
        metric.update(tag=tag)
        if out_dir:
            metric.update(out_dir=out_dir)
        if calibration:
            metric.update(temperature=calibration['temperature'],
                          threshold=calibration['threshold'],
                          score=calibration['score'])
            if calibration['score'] != 'max_softmax':
                cfg.custom_hooks = [*(cfg.get('custom_hooks') or []),
                                    dict(type='KeepLogitsHook')]


def add_calibration_args(parser):
    """``--no-calibration`` and ``--threshold`` of infer.py and serve.py."""
    parser.add_argument('--no-calibration', action='store_true',
                        help='ignore the calibration (<checkpoint>.'
                        'calibration.json, or the one embedded in a .onnx): '
                        'raw scores, never "unknown"')
    parser.add_argument('--threshold', type=float,
                        help='answer "unknown" below this reject score: '
                        'the calibration\'s score (energy, or the top '
                        'probability in [0, 1] for max_softmax and without '
                        'a calibration; default: the calibration\'s '
                        'threshold)')


def check_threshold(args):
    """``args``, refusing a ``--threshold`` that is not a finite number
    (its range depends on the score: :func:`threshold_override`)."""
    if args.threshold is not None and not math.isfinite(args.threshold):
        raise UserInputError(f'--threshold {args.threshold}: a finite '
                             'number.')
    return args


def threshold_override(threshold, score):
    """``--threshold`` checked for the reject ``score`` it replaces the
    threshold of (a max_softmax one is a probability)."""
    try:
        return check_calibration(1, threshold, score)[1]
    except ValueError as exc:
        raise UserInputError(f'--threshold {threshold}: a {score} '
                             'threshold must be in [0, 1].') from exc
