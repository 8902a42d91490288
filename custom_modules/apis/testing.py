"""What ``tools/test.py`` does between parsing its flags and testing."""
import copy
import os.path as osp

from mmpretrain.registry import RUNNERS

import custom_modules.evaluation.metrics  # noqa: F401  (DumpPredictions)
from custom_modules.evaluation.calibration import apply_calibration, read_calibration
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import check_new, file_sha256

from .config import (
    RUNNER_DEFAULTS,
    config_from_args,
    fix_workers,
    for_evaluation,
    options,
)
from .data_folder import report_data_folder, use_data_folder
from .model import checked_config
from .preflight import check_data, check_values, under_root

# tools/test.py's flags and their defaults (tests check they match).
TEST_DEFAULTS = dict(
    RUNNER_DEFAULTS, work_dir=None, out=None, tta=False, force=False,
    allow_partial_checkpoint=False, data_folder=None, on_problem='stop',
    no_calibration=False)


def options_for_test(config, checkpoint, **flags):
    """tools/test.py's flags for ``config`` and ``checkpoint``."""
    return options(TEST_DEFAULTS, dict(config=config, checkpoint=checkpoint),
                   **flags)


def merge_test_args(cfg, args):
    """Apply tools/test.py's flags: checkpoint, TTA, ``--out``."""
    cfg = checked_config(for_evaluation(cfg), args.checkpoint,
                         allow_partial=args.allow_partial_checkpoint)
    cfg.load_from = args.checkpoint
    if args.tta:
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            raise UserInputError(
                f'--tta needs tta_model and tta_pipeline in {args.config}.')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out:
        if not args.out.endswith('.json'):
            raise UserInputError(
                f'--out {args.out}: use a .json file name (predictions are '
                'saved as JSON, not pickle: reading a pickle can run code).')
        check_new(args.out, args.force)
        evaluators = cfg.test_evaluator
        if isinstance(evaluators, dict):
            evaluators = [evaluators]
        cfg.test_evaluator = [*evaluators, dict(
            type='DumpPredictions', out_file_path=args.out,
            checkpoint_sha256=file_sha256(args.checkpoint))]
    cfg.test_evaluator = copy.deepcopy(cfg.test_evaluator)
    calibration = None if args.no_calibration else read_calibration(
        args.checkpoint)
    if calibration:
        print(f'calibration: temperature {calibration["temperature"]:.4f}'
              + (f', {calibration["score"]} reject threshold '
                 f'{calibration["threshold"]:.4f}'
                 if calibration['threshold'] is not None else '')
              + f' from {calibration["path"]}')
    apply_calibration(cfg, calibration, tag=getattr(args, 'split_tag', 'test'))
    fix_workers(cfg)
    return cfg


def resolve_test_split(cfg):
    """The annotation file to test: ``test.txt``, else (said) val's."""
    dataset = cfg.test_dataloader.dataset
    root = dataset.get('data_root', '') or ''
    ann_file = dataset.get('ann_file')
    if ann_file != 'test.txt' or osp.isfile(under_root(root, ann_file)):
        return under_root(root, ann_file)
    val_file = cfg.val_dataloader.dataset.ann_file
    print(f'note: {under_root(root, ann_file)} does not exist, so this tests '
          f'on {under_root(root, val_file)}: the split that chose the best '
          'epoch, whose accuracy is therefore optimistic. For an untouched '
          'test split, write the annotations with python '
          'tools/dataset/make_annotations.py SRC --split 8:1:1')
    dataset.ann_file = val_file
    return under_root(root, val_file)


def build_test_config(args):
    """Load the config, apply the flags and check the test data."""
    cfg = config_from_args(args)
    if args.data_folder:
        use_data_folder(cfg, args)
    else:
        args.tested = resolve_test_split(cfg)
    args.split_tag = osp.splitext(osp.basename(args.tested))[0]
    cfg = merge_test_args(cfg, args)
    check_values(cfg, ('test', ))
    check_data(cfg, ('test', ))
    return cfg


def test(config, checkpoint, **flags):
    """Test as ``python tools/test.py CONFIG CHECKPOINT [flags]`` does.

    Args:
        config (str): The config file.
        checkpoint (str): The checkpoint to evaluate.
        **flags: tools/test.py's flags by ``dest``, e.g. ``out='p.json'``.

    Returns:
        dict: the metrics.
    """
    args = options_for_test(config, checkpoint, **flags)
    cfg = build_test_config(args)
    metrics = RUNNERS.build(cfg).test()
    failed = metrics.pop('predictions/write_failed', None)
    print(summary(metrics, args.tested))
    if failed:
        raise UserInputError(f'--out {args.out} was not written (the error '
                             'is above; the metrics are printed above).')
    if args.data_folder:
        report_data_folder(cfg, args)
    return metrics


def summary(metrics, tested):
    """The headline figures of a test, one per line."""
    lines = [f'tested on {tested}']
    if 'accuracy/top1' in metrics:
        lines.append(f'  accuracy (top-1):   {metrics["accuracy/top1"]:.2f} %')
    ece = metrics.get('calibration/ece')
    if ece is not None:
        text = f'  ECE (15 bins):      {ece:.2f} %'
        if 'calibration/ece_scaled' in metrics:
            text += (f' before, {metrics["calibration/ece_scaled"]:.2f} % '
                     'after temperature scaling (T = '
                     f'{metrics["calibration/temperature"]:.3f})')
        lines.append(text)
        nll, brier = (metrics['calibration/nll'], metrics['calibration/brier'])
        text = f'  NLL / Brier:        {nll:.4f} / {brier:.4f}'
        if 'calibration/nll_scaled' in metrics:
            text += (f' before, {metrics["calibration/nll_scaled"]:.4f} / '
                     f'{metrics["calibration/brier_scaled"]:.4f} after')
        lines.append(text)
    if 'calibration/coverage' in metrics:
        lines.append(f'  reject option:      '
                     f'{metrics["calibration/coverage"]:.1f} % answered, '
                     f'{metrics["calibration/selective_acc"]:.2f} % of '
                     'those right')
    return '\n'.join(lines)


test.__test__ = False  # a function named test is not a pytest test
