"""--amp and --channels-last: the optimizer wrapper and hooks they select,
on the CPU (bfloat16 autocast) and, with CUDA faked, the GPU's config."""
import os.path as osp

import pytest
import torch
from conftest import TINY_CONFIG, load_tool, run_log, run_main, run_runner
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from custom_modules.apis import precision, training
from custom_modules.engine import CpuAmpOptimWrapper
from custom_modules.engine.hooks import to_channels_last

TRAIN = load_tool('tools/train.py')
TEST = load_tool('tools/test.py')
INFER = load_tool('tools/infer.py')

needs_bf16 = pytest.mark.skipif(not precision.cpu_supports_bf16(),
                                reason='this CPU has no native bfloat16')


def train_config(annotated_root, tmp_path, *flags):
    args = TRAIN.parse_args([
        TINY_CONFIG, '--from-scratch', '--data-root', annotated_root,
        '--work-dir', str(tmp_path / 'w'), *flags])
    return training.build_train_config(args)


def build(cfg):
    """The model and optimizer wrapper the Runner would build."""
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
        return model, build_optim_wrapper(model, cfg.optim_wrapper)


def batch(n=4, size=32):
    generator = torch.Generator().manual_seed(0)
    return dict(
        inputs=[torch.randint(0, 256, (3, size, size), dtype=torch.uint8,
                              generator=generator) for _ in range(n)],
        data_samples=[DataSample().set_gt_label(i % 5) for i in range(n)])


def test_cpu_wrapper_builds_from_config_and_refuses_float16():
    model = torch.nn.Linear(2, 2)
    wrapper = build_optim_wrapper(model, dict(
        type='mmpretrain.CpuAmpOptimWrapper',
        optimizer=dict(type='Adam', lr=1e-3)))
    assert isinstance(wrapper, CpuAmpOptimWrapper)
    assert wrapper.cast_dtype == torch.bfloat16
    with pytest.raises(ValueError, match='bfloat16'):
        CpuAmpOptimWrapper(dtype='float16',
                           optimizer=torch.optim.Adam(model.parameters()))


@needs_bf16
def test_amp_trains_in_bfloat16_on_float32_master_weights(annotated_root,
                                                          tmp_path):
    cfg = train_config(annotated_root, tmp_path, '--amp')
    assert cfg.optim_wrapper.type == 'CpuAmpOptimWrapper'
    assert cfg.val_cfg.fp16 and cfg.test_cfg.fp16  # eval under autocast
    model, wrapper = build(cfg)
    assert isinstance(wrapper, CpuAmpOptimWrapper)
    seen = []
    model.backbone.layer4.register_forward_hook(
        lambda module, args, out: seen.append(out.dtype))
    before = model.head.fc.weight.detach().clone()
    for _ in range(cfg.optim_wrapper.get('accumulative_counts', 1)):
        losses = model.train_step(batch(), wrapper)
    assert seen and set(seen) == {torch.bfloat16}
    assert torch.isfinite(losses['loss'])
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert not torch.equal(model.head.fc.weight, before)  # a step happened
    # Adam's moments are float32 too: the step ran on the master weights.
    state = wrapper.optimizer.state[model.head.fc.weight]
    assert state['exp_avg'].dtype == torch.float32


def test_without_amp_training_stays_in_float32(annotated_root, tmp_path):
    cfg = train_config(annotated_root, tmp_path)
    model, wrapper = build(cfg)
    assert type(wrapper) is OptimWrapper
    seen = []
    model.backbone.layer4.register_forward_hook(
        lambda module, args, out: seen.append(out.dtype))
    model.train_step(batch(), wrapper)
    assert set(seen) == {torch.float32}


def test_amp_is_refused_where_the_cpu_lacks_bfloat16(
        annotated_root, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(precision, 'cpu_supports_bf16', lambda: False)
    code, err = run_main(TRAIN.main, [
        TINY_CONFIG, '--amp', '--from-scratch', '--data-root',
        annotated_root, '--work-dir', str(tmp_path / 'w')], capsys)
    assert code == 2
    assert 'no native bfloat16' in err and 'drop --amp' in err
    assert not osp.exists(tmp_path / 'w')


def test_float16_is_refused_on_the_cpu(annotated_root, tmp_path, capsys):
    code, err = run_main(TRAIN.main, [
        TINY_CONFIG, '--amp', '--amp-dtype', 'float16', '--from-scratch',
        '--data-root', annotated_root, '--work-dir', str(tmp_path / 'w')],
        capsys)
    assert code == 2 and '--amp-dtype float16 needs a CUDA GPU' in err


@pytest.fixture
def fake_cuda(monkeypatch):
    """A visible GPU for the config code; nothing runs on it."""
    from mmengine.optim.optimizer import amp_optimizer_wrapper
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda: True)
    monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available',
                        lambda: True)
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '0')  # mmengine's logger
    return monkeypatch


@pytest.mark.filterwarnings('ignore::UserWarning')  # GradScaler sees no GPU
@pytest.mark.filterwarnings('ignore::FutureWarning')
@pytest.mark.parametrize('flags, dtype', [
    ([], torch.float16), (['--amp-dtype', 'bfloat16'], torch.bfloat16)])
def test_cuda_amp_uses_mmengines_wrapper_with_loss_scaling(
        flags, dtype, fake_cuda, annotated_root, tmp_path):
    cfg = train_config(annotated_root, tmp_path, '--amp', *flags)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    assert cfg.val_cfg.fp16 and cfg.env_cfg.cudnn_benchmark
    model, wrapper = build(cfg)  # mmengine accepts the flags we pass
    assert type(wrapper).__name__ == 'AmpOptimWrapper'
    assert wrapper.cast_dtype == dtype
    assert wrapper.loss_scaler is not None
    # the config's own settings reach mmengine's wrapper too
    assert wrapper._accumulative_counts == cfg.optim_wrapper.get(
        'accumulative_counts', 1)


def test_cuda_bfloat16_is_refused_where_the_gpu_lacks_it(
        fake_cuda, annotated_root, tmp_path, capsys):
    fake_cuda.setattr(torch.cuda, 'is_bf16_supported', lambda: False)
    code, err = run_main(TRAIN.main, [
        TINY_CONFIG, '--amp', '--amp-dtype', 'bfloat16', '--from-scratch',
        '--data-root', annotated_root, '--work-dir', str(tmp_path / 'w')],
        capsys)
    assert code == 2 and 'this GPU has no bfloat16' in err


def test_channels_last_converts_weights_and_inputs(annotated_root, tmp_path):
    cfg = train_config(annotated_root, tmp_path, '--channels-last')
    assert {'type': 'ChannelsLastHook'} in cfg.custom_hooks
    model, _ = build(cfg)
    to_channels_last(model)
    assert model.backbone.conv1.weight.is_contiguous(
        memory_format=torch.channels_last)
    data = model.data_preprocessor(batch(), True)
    assert data['inputs'].is_contiguous(memory_format=torch.channels_last)
    assert not data['inputs'].is_contiguous()


@needs_bf16
def test_train_test_and_infer_run_with_amp_and_channels_last(
        annotated_root, synthetic_root, tmp_path):
    work_dir = str(tmp_path / 'run')
    runner = run_runner(TRAIN.main, [
        TINY_CONFIG, '--from-scratch', '--amp', '--channels-last',
        '--data-root', annotated_root, '--work-dir', work_dir])
    assert runner.val_loop.fp16
    assert runner.model.backbone.conv1.weight.is_contiguous(
        memory_format=torch.channels_last)
    assert 'train_accuracy/top1' in run_log(work_dir)
    checkpoint = osp.join(work_dir, 'epoch_2.pth')
    metrics = run_runner(TEST.main, [
        TINY_CONFIG, checkpoint, '--amp', '--channels-last', '--data-root',
        annotated_root, '--work-dir', str(tmp_path / 'test')])
    assert 0 <= metrics['accuracy/top1'] <= 100
    results = INFER.main([
        TINY_CONFIG, checkpoint, osp.join(synthetic_root, 'daisy'), '--amp',
        '--channels-last'])
    assert len(results) == 20
    scores = [p['score'] for r in results for p in r['predictions']]
    assert all(0 <= s <= 1 for s in scores)
