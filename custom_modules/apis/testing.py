"""What ``tools/test.py`` does between parsing its flags and testing."""
import argparse
import os.path as osp

from .config import add_runner_args, config_from_args, fix_workers
from .errors import UserInputError
from .preflight import check_data
from .pretrained import train_from_scratch


def merge_test_args(cfg, args):
    """Apply tools/test.py's flags: checkpoint, TTA, ``--out``."""
    if not osp.isfile(args.checkpoint):
        raise UserInputError(f'checkpoint {args.checkpoint} does not exist.')
    cfg.load_from = args.checkpoint
    # The checkpoint holds every weight: never download pretrained ones.
    train_from_scratch(cfg)
    if args.tta:
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            raise UserInputError(
                f'--tta needs tta_model and tta_pipeline in {args.config}.')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise UserInputError(f'--out {args.out}: use a .pkl file name.')
        if osp.exists(args.out) and not args.force:
            raise UserInputError(
                f'--out {args.out} exists; pass --force to overwrite it.')
        evaluators = cfg.test_evaluator
        if isinstance(evaluators, dict):
            evaluators = [evaluators]
        cfg.test_evaluator = [*evaluators,
                              dict(type='DumpResults', out_file_path=args.out)]
    fix_workers(cfg)
    # Training parts are not needed to test.
    cfg.train_dataloader = cfg.train_cfg = cfg.optim_wrapper = None
    cfg.param_scheduler = None
    return cfg


def build_test_config(args):
    """Load the config, apply the flags and check the test data."""
    cfg = merge_test_args(config_from_args(args), args)
    check_data(cfg, ('test', ))
    return cfg


def test(cfg):
    """Build the config's Runner (``runner_type``, e.g. QuietRunner) and
    test; returns the metrics."""
    from mmpretrain.registry import RUNNERS
    return RUNNERS.build(cfg).test()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Evaluate a checkpoint')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the test log goes')
    parser.add_argument('--out', help='save predictions to this .pkl file')
    parser.add_argument('--tta', action='store_true',
                        help='average scores over the config\'s tta_pipeline')
    parser.add_argument('--force', action='store_true',
                        help='overwrite an existing --out file')
    add_runner_args(parser)
    return parser.parse_args(argv)


def main(argv=None):
    return test(build_test_config(parse_args(argv)))


test.__test__ = False  # a function named test is not a pytest test
