"""Frozen stages cost no backward work and no optimizer state, and their
BatchNorm keeps ImageNet statistics (mmpretrain's ResNet frozen_stages with
norm_eval=False, the configs' choice: see docs/speed.md)."""
import pytest
import torch
from conftest import TINY_CONFIG
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch.nn.modules.batchnorm import _BatchNorm

from custom_modules.apis.config import load_config


def frozen_modules(backbone, stages):
    return [backbone.conv1, backbone.norm1] + [
        getattr(backbone, f'layer{i}') for i in range(1, stages + 1)]


@pytest.mark.parametrize('stages', [2, 3])
def test_frozen_stages_get_no_grad_no_adam_state_and_eval_bn(stages):
    cfg = load_config(TINY_CONFIG)
    cfg.model.backbone.frozen_stages = stages
    cfg.model.backbone.init_cfg = None
    assert not cfg.model.backbone.get('norm_eval', False)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
        # The configs' Adam, through mmengine's default constructor, which
        # hands every parameter (frozen ones too) to the optimizer.
        wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert isinstance(wrapper.optimizer, torch.optim.Adam)
    frozen = {p for m in frozen_modules(model.backbone, stages)
              for p in m.parameters()}
    trainable = {p for p in model.parameters() if p not in frozen}
    given = {p for g in wrapper.optimizer.param_groups for p in g['params']}
    assert frozen <= given  # passed to Adam, which skips grad-less params
    before = {p: p.detach().clone() for p in frozen}
    stats = {m: m.running_mean.clone() for f in frozen_modules(
        model.backbone, stages) for m in f.modules()
        if isinstance(m, _BatchNorm)}

    model.train()
    data = dict(inputs=[torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
                        for _ in range(4)],
                data_samples=[DataSample().set_gt_label(i) for i in range(4)])
    for _ in range(2 * cfg.optim_wrapper.get('accumulative_counts', 1)):
        model.train_step(data, wrapper)

    assert all(not p.requires_grad and p.grad is None for p in frozen)
    assert set(wrapper.optimizer.state) == trainable  # Adam state: only these
    assert all(torch.equal(p, before[p]) for p in frozen)  # decay skipped
    # Frozen stages' BatchNorm stays in eval mode (ImageNet statistics) ...
    assert stats and all(not m.training for m in stats)
    assert all(torch.equal(m.running_mean, s) for m, s in stats.items())
    # ... while the trainable stages' BatchNorm adapts (norm_eval=False).
    later = getattr(model.backbone, f'layer{stages + 1}')
    assert all(m.training for m in later.modules()
               if isinstance(m, _BatchNorm))
