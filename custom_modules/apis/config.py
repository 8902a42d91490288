"""Load a config and apply the flags every tool shares."""
import difflib
import glob
import os
import os.path as osp

from .errors import UserInputError
from .precision import add_speed_args, apply_speed_args

# The repository: configs/ and tools/ sit beside the package.
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LOADER_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def load_config(path, cfg_options=None):
    """Load a config, naming the closest existing configs when it is absent."""
    if not osp.isfile(path):
        folder = osp.dirname(path) or '.'
        known = sorted(osp.basename(p) for p in glob.glob(
            osp.join(folder, '*.py')))
        close = difflib.get_close_matches(osp.basename(path), known, n=3)
        hint = (f' Did you mean: {", ".join(osp.join(folder, c) for c in close)}?'
                if close else ' List them with: ls configs/*.py')
        raise UserInputError(f'config {path} does not exist.{hint}')
    from mmengine.config import Config
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def accelerator_available():
    """A device mmengine's distributed launchers can bind processes to."""
    from mmengine.device import (
        is_cuda_available,
        is_mlu_available,
        is_musa_available,
        is_npu_available,
    )
    return any(check() for check in (is_cuda_available, is_npu_available,
                                     is_mlu_available, is_musa_available))


def add_runner_args(parser):
    """Flags tools/train.py and tools/test.py share with mmpretrain's."""
    from mmengine.config import DictAction

    parser.add_argument('--data-root', help='folder with classes.txt and the '
                        'annotation files (default: the config\'s)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, e.g. train_cfg.max_epochs=5')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_speed_args(parser)
    console = parser.add_mutually_exclusive_group()
    console.add_argument(
        '--log-level', choices=['DEBUG', 'INFO', 'WARNING', 'ERROR'],
        help='what the terminal shows (default: the config\'s '
        'console_log_level, WARNING: progress bars and metrics; INFO: '
        'mmengine\'s full output). The log file always has it all.')
    console.add_argument('--verbose', dest='log_level', action='store_const',
                         const='INFO', help='same as --log-level INFO')


def config_from_args(args):
    """Load ``args.config`` and apply the flags of :func:`add_runner_args`
    (``--amp``, ``--channels-last`` included) and ``--work-dir``
    (default: ``work_dirs/<config name>``); with a ``--launcher``, start
    the process group where mmengine cannot."""
    from .distributed import init_distributed
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    init_distributed(cfg)  # gloo where mmengine's start needs a GPU
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.data_root:
        set_data_root(cfg, args.data_root)
    if args.log_level:
        cfg.console_log_level = args.log_level
        if args.log_level == 'DEBUG':
            cfg.log_level = 'DEBUG'  # the file keeps at least as much
    return apply_speed_args(cfg, args)


def set_data_root(cfg, data_root):
    """Point every dataloader at ``data_root`` (ann files follow it)."""
    for key in LOADER_KEYS:
        if cfg.get(key):
            cfg[key]['dataset']['data_root'] = data_root


def fix_workers(cfg):
    """``persistent_workers=True`` with ``num_workers=0`` crashes PyTorch."""
    for key in LOADER_KEYS:
        loader = cfg.get(key)
        if loader and loader.get('num_workers', 0) == 0:
            loader['persistent_workers'] = False
