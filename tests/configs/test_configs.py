"""The 12 configs: they load, build, predict 5 classes and freeze the right
parameters; pretrained weights fill the backbone and leave the head new."""
import functools
import glob
import itertools
import os.path as osp

import pytest
import torch
from conftest import ROOT
from mmengine.config import Config
from mmpretrain.registry import MODELS, TRANSFORMS

import custom_modules.datasets  # noqa: F401  (registers RandomDegrade)
from custom_modules.engine.pretrained import pretrained_init_cfgs, train_from_scratch

MODELS_ = ('resnet101', 'resnet152', 'vgg11', 'efficientnet_lite0')
GRID = list(itertools.product(MODELS_, (2, 3), ('fixed', 'mix')))
ROBUST = 'efficientnet_lite0_freeze2_robust.py'  # the grid's one addition
OFFICIAL = {
    'resnet101': 'resnet101_8xb32_in1k_20210831-539c63f8.pth',
    'resnet152': 'resnet152_8xb32_in1k_20210901-4d7582fa.pth',
    'vgg11': 'vgg11_batch256_imagenet_20210208-4271cd6c.pth',
    # Converted offline from an installed package (package://).
    'efficientnet_lite0': 'efficientnet-lite0',
}


def config_path(model, frozen, aug):
    return osp.join(ROOT, 'configs', f'{model}_freeze{frozen}_{aug}.py')


def build_model(cfg):
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    return MODELS.build(model_cfg)


@functools.cache
def scratch_model(model_name, frozen):
    """The model of ``<model>_freeze<frozen>_*.py``, built once: the fixed
    and mix configs share it (they differ only in the train pipeline)."""
    fixed, mix = (Config.fromfile(config_path(model_name, frozen, aug))
                  for aug in ('fixed', 'mix'))
    assert fixed.model == mix.model
    train_from_scratch(fixed)
    return build_model(fixed)


def test_exactly_the_study_configs_exist():
    found = sorted(osp.basename(p) for p in glob.glob(
        osp.join(ROOT, 'configs', '*.py')))
    assert found == sorted([osp.basename(config_path(*g)) for g in GRID]
                           + [ROBUST])


@pytest.mark.parametrize('folder', ['configs', 'configs/demo/photos'])
def test_robust_config_adds_the_degradation_to_fixed(folder):
    """The robust recipe: the fixed Lite0 config (the full one, and the
    photos demo's) plus RandomDegrade straight after loading; everything
    else (model, schedule, hooks, test pipeline) unchanged."""
    fixed = Config.fromfile(osp.join(ROOT, folder, ROBUST.replace(
        'robust', 'fixed')))
    robust = Config.fromfile(osp.join(ROOT, folder, ROBUST))
    pipeline = robust.train_dataloader.dataset.pipeline
    assert pipeline[1]['type'] == 'RandomDegrade'
    assert pipeline[:1] + pipeline[2:] == fixed.train_dataloader.dataset.pipeline
    for key in ('model', 'optim_wrapper', 'param_scheduler', 'train_cfg',
                'custom_hooks', 'test_dataloader', 'val_dataloader'):
        assert robust[key] == fixed[key], key
    for transform in pipeline:
        TRANSFORMS.build(transform)


@pytest.mark.parametrize('model_name, frozen, aug', GRID)
def test_config_builds_and_predicts_five_classes(model_name, frozen, aug):
    cfg = Config.fromfile(config_path(model_name, frozen, aug))
    # Settings the issue fixes for every config.
    assert cfg.optim_wrapper.optimizer.type == 'Adam'
    assert 'momentum' not in cfg.optim_wrapper.optimizer  # SGD fully gone
    assert cfg.optim_wrapper.accumulative_counts > 1
    assert cfg.param_scheduler.type == 'WarmupStepCosineLR'
    assert cfg.data_preprocessor.num_classes == 5
    assert cfg.model.backbone.frozen_stages == frozen
    assert cfg.model.head.topk == (1, )
    assert [e['topk'] for e in cfg.val_evaluator if e['type'] == 'Accuracy'
            ] == [(1, )]
    urls = [c['checkpoint'] for c in pretrained_init_cfgs(cfg.model)]
    assert [osp.basename(u) for u in urls] == [OFFICIAL[model_name]]
    assert all(c['prefix'] == 'backbone'
               for c in pretrained_init_cfgs(cfg.model))
    ops = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert ops[:3] == ['LoadImageFromFile', 'RandomResizedCrop', 'RandomFlip']
    assert ('RandAugment' in ops and 'RandomErasing' in ops) == (aug == 'mix')

    model = scratch_model(model_name, frozen)
    model.eval()
    # VGG flattens a 7x7 map into its classifier: it needs 224 px.
    size = 224 if model_name == 'vgg11' else 64
    inputs = torch.rand(2, 3, size, size)
    with torch.no_grad():
        logits = model(inputs, mode='tensor')
    assert logits.shape == (2, 5)


def frozen_prefixes(model_name, frozen, model):
    if model_name.startswith('resnet'):
        return ['backbone.conv1.', 'backbone.bn1.'] + [
            f'backbone.layer{i}.' for i in range(1, frozen + 1)]
    if model_name.startswith('efficientnet'):  # layers.0 is the stem
        return [f'backbone.layers.{i}.' for i in range(frozen + 1)]
    last = model.backbone.range_sub_modules[frozen - 1][1]
    return [f'backbone.features.{j}.' for j in range(last)]


@pytest.mark.parametrize('model_name, frozen',
                         list(itertools.product(MODELS_, (2, 3))))
def test_exactly_the_first_stages_are_frozen(model_name, frozen):
    model = scratch_model(model_name, frozen)
    model.train()
    prefixes = frozen_prefixes(model_name, frozen, model)
    params = dict(model.named_parameters())
    frozen_names = {n for n in params if n.startswith(tuple(prefixes))}
    assert frozen_names, 'no frozen parameter found'
    assert {n for n, p in params.items() if not p.requires_grad} == \
        frozen_names
    # Stage k + 1 and the head train.
    assert any(p.requires_grad for n, p in params.items()
               if n.startswith(('backbone.layer', 'backbone.classifier',
                                'head.')))
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            in_frozen = (name + '.').startswith(tuple(prefixes))
            assert module.training != in_frozen, name


def write_official_checkpoint(model_name, path):
    """A 1000-class checkpoint in the layout of the official files.

    VGG-11's first two classifier layers (120 M weights, 480 MB) are left
    out: they load like every other matching tensor, and the check that the
    1000-way ``classifier.6`` is skipped does not need them.
    """
    head = ('backbone.classifier.6.' if model_name == 'vgg11' else
            'head.fc.')
    state = {}
    # Shapes of our 5-class model, with the 1000-way ImageNet head; every
    # value distinctive, so a tensor that is not loaded cannot pass.
    for key, value in scratch_model(model_name, 2).state_dict().items():
        if key.startswith(('backbone.classifier.0.',
                           'backbone.classifier.3.')):
            continue
        shape = (1000, *value.shape[1:]) if key.startswith(head) else \
            value.shape
        state[key] = (torch.randn(shape) if value.is_floating_point() else
                      torch.full(shape, 7, dtype=value.dtype))
    torch.save({'meta': {'CLASSES': [str(i) for i in range(1000)],
                         'mmcls_version': '0.x', 'epoch': 100},
                'state_dict': state}, path)
    return state


@pytest.mark.parametrize('model_name', MODELS_)
def test_pretrained_fills_backbone_and_keeps_new_head(model_name, tmp_path):
    path = str(tmp_path / OFFICIAL[model_name])
    official = write_official_checkpoint(model_name, path)
    cfg = Config.fromfile(config_path(model_name, 2, 'fixed'))
    for init_cfg in pretrained_init_cfgs(cfg.model):
        init_cfg['checkpoint'] = path
    model = build_model(cfg)
    model.init_weights()  # loads through torch.load(weights_only=True)
    state = model.state_dict()
    backbone = {k: v for k, v in state.items()
                if k.startswith('backbone.') and k in official}
    if model_name == 'vgg11':
        new_head = {k: v for k, v in backbone.items()
                    if k.startswith('backbone.classifier.6.')}
        backbone = {k: v for k, v in backbone.items() if k not in new_head}
    else:
        new_head = {k: v for k, v in state.items() if k.startswith('head.')}
    assert len(backbone) >= 16  # VGG-11: 8 conv layers, weight and bias
    for key, value in backbone.items():
        assert torch.equal(value, official[key]), key
    weight = next(v for k, v in new_head.items() if k.endswith('weight'))
    assert weight.shape[0] == 5
    # Freshly initialised: small normal weights, nothing like the checkpoint.
    assert weight.std().item() == pytest.approx(0.01, rel=0.2)
    assert not torch.allclose(weight, official[next(
        k for k in new_head if k.endswith('weight'))][:5])


@pytest.mark.parametrize('frozen, aug', [(2, 'fixed'), (3, 'mix')])
def test_lite0_configs_default_to_the_measured_recipe(frozen, aug):
    """The pretrained Lite0 configs start fast (lr 1e-3 after half an epoch
    of warm-up, then cosine: the README's recipe table); the study configs
    keep the report's slow start, which they reproduce."""
    lite0 = Config.fromfile(config_path('efficientnet_lite0', frozen, aug))
    study = Config.fromfile(config_path('resnet101', frozen, aug))
    assert lite0.optim_wrapper.optimizer.lr == 1e-3
    assert lite0.param_scheduler.warmup_end == 0.5
    # No step phase: decay goes straight from warm-up into cosine.
    assert lite0.param_scheduler.decay_end == lite0.param_scheduler.warmup_end
    assert lite0.train_cfg.max_epochs == 2
    assert study.optim_wrapper.optimizer.lr == 1e-4
    assert study.param_scheduler.warmup_end == 10
    assert study.train_cfg.max_epochs == 40
