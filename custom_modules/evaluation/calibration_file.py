"""The temperature and reject threshold stored beside a checkpoint.

``tools/analysis/calibrate.py`` writes ``<checkpoint>.calibration.json``;
``tools/test.py``, ``tools/infer.py``, ``tools/serve.py`` and
``tools/deploy/export_onnx.py`` (which embeds it) read it when it is there.
"""
import json
import os.path as osp

from custom_modules.utils.errors import UserInputError


def calibration_path(checkpoint):
    return checkpoint + '.calibration.json'


def read_calibration(checkpoint):
    """The stored calibration of ``checkpoint``, or None if it has none."""
    path = calibration_path(checkpoint)
    if not osp.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as f:
            calibration = json.load(f)
        temperature = float(calibration['temperature'])
        threshold = calibration.get('threshold')
        threshold = None if threshold is None else float(threshold)
    except (ValueError, KeyError, TypeError) as exc:
        raise UserInputError(
            f'{path} is not a calibration file ({exc}). Rewrite it with '
            'python tools/analysis/calibrate.py CONFIG CHECKPOINT --force, '
            'or delete it.') from exc
    if not temperature > 0:
        raise UserInputError(f'{path}: temperature {temperature} must be '
                             'above 0; rewrite it with calibrate.py --force.')
    if threshold is not None and not 0 <= threshold <= 1:
        raise UserInputError(f'{path}: threshold {threshold} must be a score '
                             'in [0, 1]; rewrite it with calibrate.py '
                             '--force, or fix the value.')
    return dict(calibration, path=path, temperature=temperature,
                threshold=threshold)


def calibration_metrics(cfg, key='test_evaluator'):
    """The CalibrationMetric entries of ``cfg[key]`` (dict or list)."""
    evaluators = cfg.get(key) or []
    if isinstance(evaluators, dict):
        evaluators = [evaluators]
    return [e for e in evaluators if e.get('type') == 'CalibrationMetric']


def apply_calibration(cfg, calibration, tag='test', out_dir=None):
    """Let the test evaluator's CalibrationMetric report the scaled figures
    and the reject option, and name its plots ``*_<tag>.png``."""
    for metric in calibration_metrics(cfg):
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
    if args.threshold is not None and not 0 <= args.threshold <= 1:
        raise UserInputError(f'--threshold {args.threshold}: a score in '
                             '[0, 1].')
    return args
