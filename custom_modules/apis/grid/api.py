"""The grid from Python: ``run_grid(**flags)`` does what
``python tools/run_grid.py [flags]`` does."""
import os.path as osp

from custom_modules.utils.paths import ROOT

from ..config import options
from ..precision import check_speed_args, speed_flags
from .results import write_results
from .runner import Grid, prepare_demo, select_configs

# tools/run_grid.py's flags and their defaults (tests check they match).
GRID_DEFAULTS = dict(
    configs=['*'], config_dir=osp.join(ROOT, 'configs'),
    work_dir='work_dirs/grid', seeds=[None], gpus=1, pretrained_dir=None,
    from_scratch=False, data_root=None, no_analysis=False, shift_benchmark=True,
    keep_checkpoints='best', cfg_options=[], vis_backend=None,
    early_stop=None, amp=False, amp_dtype=None, channels_last=False,
    demo=False, demo_epochs=2, demo_per_class=20)


def grid_options(**flags):
    """tools/run_grid.py's flags, e.g. ``grid_options(seeds=[0, 1])``."""
    return options(GRID_DEFAULTS, {}, **flags)


def make_grid(args):
    """The :class:`Grid` the flags ask for (``demo``: its own synthetic
    data and tiny settings)."""
    demo_options = [f'train_cfg.max_epochs={args.demo_epochs}']
    return Grid(
        work_dir=args.work_dir, gpus=args.gpus,
        from_scratch=args.from_scratch or args.demo,
        pretrained_dir=args.pretrained_dir,
        data_root=(prepare_demo(args.work_dir, args.demo_per_class)
                   if args.demo else args.data_root),
        analysis=not args.no_analysis, keep_checkpoints=args.keep_checkpoints,
        cfg_options=[*(demo_options if args.demo else []), *args.cfg_options],
        speed_flags=speed_flags(args), small=args.demo,
        vis_backends=tuple(args.vis_backend or ()),
        early_stop=args.early_stop, shift_benchmark=args.shift_benchmark)


def run_grid(**flags):
    """Run the grid as ``python tools/run_grid.py [flags]`` does.

    Args:
        **flags: tools/run_grid.py's flags by their ``dest`` names, e.g.
            ``configs=['resnet101_*'], seeds=[0, 1], early_stop=3,
            vis_backend=['tensorboard'], cfg_options=['a.b=1']``.

    Returns:
        dict: ``records`` (one per run: its ``done.json``), ``rows`` (one
        per config, as in results.md), ``paths`` (results.md, .csv, .png
        and report.html; empty if stopped before any run finished) and
        ``interrupted`` (the exit code of a SIGINT/SIGTERM stop, or None).
    """
    args = grid_options(**flags)
    check_speed_args(args)  # refused here, not once per run
    configs = select_configs(osp.join(ROOT, 'configs', 'demo') if args.demo
                             else args.config_dir, args.configs)
    grid = make_grid(args)
    records = grid.run(configs, args.seeds)
    paths, rows = write_results(args.work_dir, records) if records else (
        {}, [])
    return dict(records=records, rows=rows, paths=paths,
                interrupted=grid.interrupted)
