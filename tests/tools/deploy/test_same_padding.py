"""The export of EfficientNet-Lite0 (TF "same" padding, mmcv's
Conv2dAdaptivePadding): folding the padding into constant amounts keeps the
network's output, and lets every convolution of the int8 model run in int8."""
import numpy as np
import onnx
import pytest
import torch
from mmcv.cnn.bricks.conv2d_adaptive_padding import Conv2dAdaptivePadding
from mmpretrain.apis import get_model

from custom_modules.apis.config import load_config
from custom_modules.apis.deploy.export import (
    fold_same_padding,
    int8_coverage,
    quantize_int8,
    to_onnx,
)
from custom_modules.engine.pretrained import train_from_scratch
from custom_modules.utils.paths import ROOT

LITE0 = f'{ROOT}/configs/demo/photos/efficientnet_lite0_freeze2_fixed.py'


@pytest.fixture(scope='module')
def lite0():
    cfg = load_config(LITE0)
    train_from_scratch(cfg)
    torch.manual_seed(0)
    return get_model(cfg, device='cpu').eval()


def adaptive(model):
    return [m for m in model.modules() if isinstance(m, Conv2dAdaptivePadding)]


@pytest.mark.parametrize('size', [32, 37])  # even sizes pad asymmetrically
def test_folded_padding_keeps_the_features(lite0, size):
    folded = fold_same_padding(lite0, size)
    assert len(adaptive(lite0)) == 49 and not adaptive(folded)
    assert any(isinstance(m, torch.nn.ZeroPad2d) for m in folded.modules())
    images = torch.rand(3, 3, size, size) * 4 - 2
    with torch.no_grad():
        ours, theirs = folded.extract_feat(images), lite0.extract_feat(images)
    assert ours[-1].shape == theirs[-1].shape
    assert (ours[-1] - theirs[-1]).abs().max() < 1e-5


def test_every_convolution_of_lite0_runs_in_int8(lite0):
    recipe = {'resize_edge': {'scale': 40, 'edge': 'short'}, 'crop_size': 32}
    data = to_onnx(lite0, recipe, [str(i) for i in range(5)])
    rng = np.random.default_rng(0)
    int8 = quantize_int8(data, (rng.uniform(0, 255, (4, 3, 32, 32)).astype(
        np.float32) for _ in range(2)))
    # int8 from the first convolution to the classifier: back to float once,
    # for the softmax
    assert int8_coverage(int8) == {'int8_convolutions': 49, 'convolutions': 49,
                                   'dequantize': 1}
    proto = onnx.load_from_string(int8)
    activations = [i for i in proto.graph.initializer
                   if i.name.endswith('zero_point') and len(i.dims) == 0]
    assert activations and all(
        i.data_type == onnx.TensorProto.UINT8 for i in activations)  # U8S8
