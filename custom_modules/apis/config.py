"""Load a config and apply the flags every tool shares."""
import argparse
import difflib
import glob
import inspect
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner
from mmpretrain import registry

from custom_modules.utils.cli import add_cfg_options, add_data_root
from custom_modules.utils.errors import UserInputError

from .distributed import init_distributed
from .precision import add_speed_args, apply_speed_args
from .tracking import VIS_BACKENDS, add_vis_backends

LOADER_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
MAPPING = (dict, Config)


def options_dict(options):
    """``--cfg-options`` strings (``['a.b=1']``) as the dict they parse to
    (None for none)."""
    namespace = argparse.Namespace()
    DictAction([], 'cfg_options')(None, namespace, list(options))
    return namespace.cfg_options or None


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
    try:
        cfg = Config.fromfile(path)
    except SyntaxError as err:
        raise UserInputError(syntax_error_message(path, err)) from None
    if cfg_options:
        check_cfg_options(cfg, cfg_options, path)
        cfg.merge_from_dict(cfg_options)
    return cfg


def syntax_error_message(path, err):
    """Name the file with the syntax error: mmengine reports '<unknown>'."""
    try:
        with open(path, encoding='utf-8') as f:
            compile(f.read(), path, 'exec')
        where = f'one of the files config {path} inherits (_base_)'
    except SyntaxError as own:
        err, where = own, f'config {path}'
    return (f'{where} has a syntax error: {err.msg} (line {err.lineno}: '
            f'{(err.text or "").strip()!r}). Fix that line and run again.')


def add_runner_args(parser):
    """Flags tools/train.py and tools/test.py share with mmpretrain's."""
    add_data_root(parser)
    add_cfg_options(parser)
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        help='how the processes were started: none (one '
                        'process), pytorch (torchrun, tools/dist_train.sh), '
                        'slurm or mpi')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0,
                        help='set by the launcher; not for use by hand')
    parser.add_argument(
        '--vis-backend', action='append', choices=sorted(VIS_BACKENDS),
        help='also track the run with TensorBoard (events in the run\'s '
        'vis_data folder) or MLflow (a local store in WORK_DIR/mlruns); '
        'repeat the flag for both')
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
    """Load ``args.config`` and apply :func:`add_runner_args`' flags and
    ``--work-dir``; with a ``--launcher``, start the process group."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    init_distributed(cfg)  # gloo where mmengine's start needs a GPU
    name = osp.splitext(osp.basename(args.config))[0]
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join('work_dirs', name)
    if args.data_root:
        set_data_root(cfg, args.data_root)
    add_vis_backends(cfg, args.vis_backend, name)
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


def accepted_arguments(type_name):
    """The keyword arguments the registered ``type_name`` takes, or ``None``
    when unknown or open-ended (``**kwargs``)."""
    names = ('MODELS', 'DATASETS', 'TRANSFORMS', 'HOOKS', 'OPTIMIZERS',
             'OPTIM_WRAPPERS', 'PARAM_SCHEDULERS', 'METRICS', 'LOOPS',
             'DATA_SAMPLERS', 'VISUALIZERS', 'VISBACKENDS')
    target = type_name if callable(type_name) else next((
        t for name in names if isinstance(type_name, str)
        and (t := getattr(registry, name).get(type_name))), None)
    try:
        params = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):  # None too: unknown
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params}


def _refuse(key, config, unknown, known, what):
    close = difflib.get_close_matches(unknown, [str(k) for k in known], n=3)
    hint = f' Did you mean: {", ".join(close)}?' if close else ''
    raise UserInputError(f'--cfg-options {key}: {what} has no {unknown!r} '
                         f'in config {config}.{hint}')


def check_cfg_options(cfg, options, config):
    """Refuse an override that would be ignored or crash later: a missing
    intermediate key, an argument the registered type does not take, a
    near-miss of a key, or a top-level key nothing reads."""
    runner_keys = set(inspect.signature(Runner.__init__).parameters)
    # Top-level keys read outside Runner.__init__'s arguments.
    runner_keys |= {'sync_bn', 'runner_type', 'console_log_level',
                    'tta_model', 'tta_pipeline', 'early_stop_patience'}
    for key in options:
        parts = key.split('.')
        node = cfg
        for depth, part in enumerate(parts[:-1]):
            if isinstance(node, (list, tuple)) and part.isdigit() \
                    and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, MAPPING) and part in node:
                node = node[part]
            else:
                _refuse(key, config, part, node if isinstance(node, MAPPING) else [],
                        '.'.join(parts[:depth]) or 'the config')
            if not isinstance(node, (*MAPPING, list, tuple)):
                break  # None or a value: mmengine replaces it with a dict
        else:
            leaf = parts[-1]
            if len(parts) == 1:
                if leaf not in cfg and leaf not in runner_keys:
                    _refuse(key, config, leaf, {*cfg, *runner_keys},
                            'the config (and mmengine\'s Runner)')
            elif isinstance(node, (list, tuple)) and not leaf.isdigit():
                raise UserInputError(
                    f'--cfg-options {key}: {".".join(parts[:-1])} is a list '
                    f'in config {config}; give an index, e.g. '
                    f'{".".join(parts[:-1])}.0.{leaf}=...')
            elif isinstance(node, MAPPING) and leaf not in node:
                where = '.'.join(parts[:-1])
                accepted = accepted_arguments(node.get('type'))
                if accepted is not None and leaf not in accepted:
                    _refuse(key, config, leaf, accepted,
                            f'{where} (type {node.get("type")})')
                if difflib.get_close_matches(leaf, list(node), cutoff=0.8):
                    _refuse(key, config, leaf, node, where)


# The defaults of add_runner_args' flags, for runs started from Python.
RUNNER_DEFAULTS = dict(data_root=None, cfg_options=None, launcher='none',
                       local_rank=0, amp=False, amp_dtype=None,
                       channels_last=False, log_level=None, vis_backend=None)


def options(defaults, positional, **flags):
    """A tool's flags as its parser would give them, for Python callers.

    Args:
        defaults (dict): Every flag of the tool with its default.
        positional (dict): The tool's positional arguments.
        **flags: The flags to set, by their ``dest`` names
            (``work_dir='...'``, ``from_scratch=True``...).

    Returns:
        argparse.Namespace: what the tool's ``parse_args`` would return.
    """
    unknown = sorted(set(flags) - set(defaults))
    if unknown:
        raise UserInputError(f'unknown option(s) {", ".join(unknown)}; '
                             f'known: {", ".join(sorted(defaults))}.')
    return argparse.Namespace(**{**defaults, **positional, **flags})


def for_evaluation(cfg):
    """Drop what only training reads (a resumed run's ``resume`` and
    ``load_from`` would make the test loop resume, and fail)."""
    cfg.resume = False
    cfg.load_from = cfg.train_dataloader = cfg.train_cfg = cfg.optim_wrapper = None
    cfg.param_scheduler = None
    return cfg
