"""The GPU-only branches, reached on a CPU: each builds its configuration
and hands it to mmengine or torch, with CUDA faked where the code asks for
it (AmpOptimWrapper: tests/engine/test_amp_channels_last.py; nccl:
tests/tools/test_dist_train.py). What they cannot show (a real CUDA step,
its speed and memory) is listed in docs/speed.md, "Unmeasured: GPUs"."""
import os
from types import SimpleNamespace

import pytest
import torch
from conftest import TINY_CONFIG, load_tool
from mmengine.config import Config
from mmengine.model import MMDistributedDataParallel
from mmengine.runner import Runner

import custom_modules.models  # noqa: F401  (registers the DDP wrapper)
from custom_modules.apis import precision, training
from custom_modules.apis.benchmark import timing, torch_speed
from custom_modules.apis.config import load_config

TRAIN = load_tool('tools/train.py')

STUDY_CONFIG = 'configs/resnet101_freeze2_fixed.py'


class OnDevice(torch.nn.Module):
    """A module whose parameters report ``device`` (no tensor is made)."""

    def __init__(self, device):
        super().__init__()
        self.device = torch.device(device)

    def to(self, *args, **kwargs):  # Runner.wrap_model moves the model
        return self

    def parameters(self, recurse=True):
        yield SimpleNamespace(device=self.device)


@pytest.mark.parametrize('device, kept', [('cuda', True), ('cpu', False)])
def test_runner_wraps_cuda_modules_with_their_device_ids(device, kept,
                                                         monkeypatch):
    """mmengine's own Runner.wrap_model, with our config's wrapper:
    device_ids=[LOCAL_RANK] reach DistributedDataParallel for a CUDA
    module, and are dropped for a CPU one (which torch would refuse)."""
    calls = []
    monkeypatch.setattr(MMDistributedDataParallel, '__init__',
                        lambda self, module, **kw: calls.append(kw))
    monkeypatch.setenv('LOCAL_RANK', '3')
    cfg = load_config(STUDY_CONFIG)
    runner = SimpleNamespace(distributed=True, cfg=Config(dict()))
    Runner.wrap_model(runner, cfg.model_wrapper_cfg.to_dict(),
                      OnDevice(device))
    expected = dict(broadcast_buffers=False, find_unused_parameters=False)
    if kept:
        expected['device_ids'] = [3]
    assert calls == [expected]


def test_cudnn_benchmark_reaches_torch(annotated_root, tmp_path,
                                       monkeypatch):
    """env_cfg.cudnn_benchmark (configs/_base_/default_runtime.py) is read
    by mmengine's Runner, which switches torch's cuDNN autotuner on."""
    monkeypatch.setattr(torch.backends.cudnn, 'benchmark', False)
    cfg = training.build_train_config(TRAIN.parse_args([
        TINY_CONFIG, '--from-scratch', '--data-root', annotated_root,
        '--work-dir', str(tmp_path / 'w'), '--cfg-options',
        f'experiment_name=gpu_{os.getpid()}_{id(tmp_path)}']))
    assert cfg.env_cfg.cudnn_benchmark
    Runner.from_cfg(cfg)
    assert torch.backends.cudnn.benchmark


@pytest.fixture
def fake_gpu(monkeypatch):
    """torch.cuda as the benchmark sees it on a GPU; records the calls."""
    calls = []
    for name, value in (('is_available', True), ('is_bf16_supported', True),
                        ('get_device_name', 'NVIDIA H100 80GB HBM3'),
                        ('max_memory_allocated', 1536 * 2**20)):
        monkeypatch.setattr(torch.cuda, name,
                            lambda *a, value=value, name=name:
                            calls.append(name) or value)
    for name in ('reset_peak_memory_stats', 'synchronize'):
        monkeypatch.setattr(torch.cuda, name,
                            lambda *a, name=name: calls.append(name))
    return calls


def test_benchmark_reads_gpu_peak_memory_and_syncs(fake_gpu):
    with timing.peak_memory('cuda') as mem:
        assert fake_gpu == ['reset_peak_memory_stats']  # from the start
        timing.sync('cuda')
    assert mem.mb == 1536  # torch.cuda.max_memory_allocated, in MB
    assert fake_gpu[-2:] == ['synchronize', 'max_memory_allocated']
    assert '- GPU: NVIDIA H100 80GB HBM3' in '\n'.join(
        f'- {line}' for line in timing.environment('cuda'))
    assert torch_speed.amp_refusal('cuda') is None
    assert torch_speed.autocast(True, 'cuda').fast_dtype == torch.float16
    assert precision.amp_dtype(None, 'cuda') == 'float16'


@pytest.mark.parametrize('dtype, hooked', [('bfloat16', True),
                                           ('float16', False)])
def test_cuda_eval_autocasts_in_the_training_dtype(dtype, hooked,
                                                   monkeypatch):
    """mmengine's val/test loops enter autocast without a dtype (torch's
    CUDA default, float16): with --amp-dtype bfloat16 on CUDA our hook
    makes that default bfloat16 for the run, and restores it after."""
    import contextlib

    from mmengine.runner import amp

    from custom_modules.engine.hooks import EvalAutocastDtypeHook
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda: True)
    cfg = load_config(TINY_CONFIG)
    assert precision.apply_amp(cfg, dtype, device='cuda') == dtype
    hooks = [h for h in cfg.custom_hooks
             if h['type'] == 'EvalAutocastDtypeHook']
    assert hooks == ([dict(type='EvalAutocastDtypeHook', dtype=dtype)]
                     if hooked else [])
    entered = []  # the dtype mmengine's loops would hand torch.autocast
    monkeypatch.setattr(torch, 'autocast', lambda **kw: entered.append(
        kw['dtype']) or contextlib.nullcontext())

    def loop_autocast():  # as ValLoop.run_iter: autocast(enabled=fp16)
        with amp.autocast(enabled=cfg.val_cfg.fp16, device_type='cuda'):
            pass
    hook = EvalAutocastDtypeHook(dtype) if hooked else None
    if hook:
        hook.before_run(None)
    loop_autocast()
    if hook:
        hook.after_run(None)
    loop_autocast()
    assert entered == [getattr(torch, dtype), torch.float16]
    assert torch.get_autocast_dtype('cuda') == torch.float16
