"""``--amp``, ``--amp-dtype`` and ``--channels-last``: on CUDA mmengine's
``AmpOptimWrapper``; on the CPU our ``CpuAmpOptimWrapper`` (bfloat16), only
where the CPU has native bfloat16 (elsewhere slower, so refused).
Validation and testing run under the same autocast.
"""
import contextlib
import platform

from custom_modules.utils.errors import UserInputError

AMP_DTYPES = ('float16', 'bfloat16')


def add_speed_args(parser):
    parser.add_argument(
        '--amp', action='store_true',
        help='mixed precision: bfloat16 autocast on a CPU with native '
        'bfloat16, float16 (or --amp-dtype) with loss scaling on a GPU')
    parser.add_argument(
        '--amp-dtype', choices=AMP_DTYPES,
        help='autocast dtype with --amp (default: float16 on CUDA, '
        'bfloat16 on the CPU, which has no other)')
    parser.add_argument(
        '--channels-last', action='store_true',
        help='channels-last (NHWC) model weights and inputs')


def cpu_supports_bf16():
    """Native bfloat16 arithmetic (AVX512-BF16 or AMX tiles)."""
    # lazy: torch-free for the .onnx path of tools/infer.py
    import torch
    return bool(torch.cpu._is_avx512_bf16_supported()
                or torch.cpu._is_amx_tile_supported())


def cpu_name():
    """The CPU's model name (/proc/cpuinfo on Linux)."""
    with contextlib.suppress(OSError), open('/proc/cpuinfo', encoding='utf-8') as f:
        for line in f:
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    return platform.processor() or platform.machine()


def amp_device():
    # lazy: torch-free for the .onnx path of tools/infer.py
    import torch
    return 'cuda' if torch.cuda.is_available() else 'cpu'


def amp_dtype(requested=None, device=None):
    """The autocast dtype for ``device``; refuses what it cannot run."""
    device = device or amp_device()
    if device == 'cuda':
        # lazy: torch-free for the .onnx path of tools/infer.py
        import torch
        dtype = requested or 'float16'
        if dtype == 'bfloat16' and not torch.cuda.is_bf16_supported():
            raise UserInputError(
                '--amp-dtype bfloat16: this GPU has no bfloat16 support; '
                'use --amp-dtype float16 (the default).')
        return dtype
    if requested == 'float16':
        raise UserInputError(
            '--amp-dtype float16 needs a CUDA GPU; on the CPU autocast '
            'computes in bfloat16 (drop --amp-dtype).')
    if not cpu_supports_bf16():
        raise UserInputError(
            '--amp: this CPU has no native bfloat16 (AVX512-BF16 or AMX), '
            'so mixed precision would be slower than float32 here; drop '
            '--amp (--channels-last still helps).')
    return 'bfloat16'


def apply_amp(cfg, requested=None, device=None):
    """Switch ``cfg`` to mixed precision on ``device`` (default: the
    Runner's); returns the dtype."""
    device = device or amp_device()
    dtype = amp_dtype(requested, device)
    if cfg.get('optim_wrapper'):
        if device == 'cuda':
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        else:
            cfg.optim_wrapper.type = 'CpuAmpOptimWrapper'
        cfg.optim_wrapper.dtype = dtype
    for key in ('val_cfg', 'test_cfg'):
        if cfg.get(key) is not None:
            cfg[key]['fp16'] = True
    if device == 'cuda' and dtype != 'float16':  # the loops' CUDA default
        cfg.custom_hooks = [*(cfg.get('custom_hooks') or []),
                            dict(type='EvalAutocastDtypeHook', dtype=dtype)]
    return dtype


def check_speed_args(args):
    """Refuse :func:`add_speed_args`' flags this machine cannot run, before
    any work starts; returns the autocast dtype (None without ``--amp``)."""
    if args.amp_dtype and not args.amp:
        raise UserInputError('--amp-dtype needs --amp.')
    return amp_dtype(args.amp_dtype) if args.amp else None


def speed_flags(args):
    """:func:`add_speed_args`' flags as given, for a child tool's command."""
    return [*(['--amp'] if args.amp else []),
            *(['--amp-dtype', args.amp_dtype] if args.amp_dtype else []),
            *(['--channels-last'] if args.channels_last else [])]


def precision_label(cfg):
    """What a saved Runner config computes in, e.g. ``fp32`` or
    ``amp bfloat16 + channels_last``."""
    def kind(node):
        return str(node.get('type', '')).rsplit('.', 1)[-1]
    wrapper = cfg.get('optim_wrapper') or {}
    default = {'AmpOptimWrapper': 'float16',
               'CpuAmpOptimWrapper': 'bfloat16'}.get(kind(wrapper))
    label = f'amp {wrapper.get("dtype") or default}' if default else 'fp32'
    if any(kind(h) == 'ChannelsLastHook' for h in cfg.get('custom_hooks')
           or []):
        label += ' + channels_last'
    return label


def apply_speed_args(cfg, args):
    """Apply :func:`add_speed_args`' flags to a Runner config."""
    check_speed_args(args)
    if args.amp:
        apply_amp(cfg, args.amp_dtype)
    hooks = cfg.get('custom_hooks') or []
    if args.channels_last and not any(
            h.get('type') == 'ChannelsLastHook' for h in hooks):
        cfg.custom_hooks = [*hooks, dict(type='ChannelsLastHook')]  # NHWC
    return cfg

