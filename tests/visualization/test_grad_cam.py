"""Grad-CAM (custom_modules.visualization.cam): the layer chosen per
backbone, and maps that sit where a hand-built model finds its evidence."""
import numpy as np
import pytest
import torch
from conftest import TINY_CONFIG
from mmengine.config import Config
from mmpretrain.registry import MODELS
from PIL import Image

import custom_modules.models  # noqa: F401  (registers EfficientNetLite)
from custom_modules.apis.config import load_config
from custom_modules.utils.errors import UserInputError
from custom_modules.visualization.cam import (
    cam_overlay,
    compute_cams,
    default_target_layer,
    resolve_target_layers,
)


def classifier(backbone, channels):
    return MODELS.build(dict(
        type='ImageClassifier', backbone=backbone,
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=5,
                  in_channels=channels)))


def assert_cam_runs(model, size=32):
    """A map at the pipeline's output size from the default layer."""
    model._config = Config(dict(test_dataloader=dict(dataset=dict(pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='ResizeEdge', scale=size, edge='short'),
        dict(type='CenterCrop', crop_size=size),
        dict(type='PackInputs')]))))
    rgb = np.random.default_rng(0).integers(0, 256, (40, 50, 3), np.uint8)
    overlay, heatmap, pred = cam_overlay(model, rgb)
    assert overlay.shape == (size, size, 3) and heatmap.shape == (size, size)
    assert np.isfinite(heatmap).all() and heatmap.max() > 0
    assert pred['target'] == pred['label']


def test_resnet_uses_the_last_block_of_the_last_stage():
    model = MODELS.build(load_config(TINY_CONFIG).model)
    assert default_target_layer(model) == 'backbone.layer4.1'
    [(_, layer)] = resolve_target_layers(model)
    assert layer is model.backbone.layer4[-1]
    # ResNetV1c, and a neck reading stage 3: that stage's last block.
    model = classifier(dict(type='ResNetV1c', depth=18, base_channels=8,
                            stem_channels=8, out_indices=(2, )), 32)
    assert default_target_layer(model) == 'backbone.layer3.1'
    assert_cam_runs(model)


def test_vgg_uses_the_last_conv_relu_of_the_features():
    # Three stages of VGG-11 without its 224-px classifier: small inputs.
    model = classifier(dict(type='VGG', depth=11, num_stages=3,
                            dilations=(1, 1, 1), out_indices=(2, )), 256)
    name = default_target_layer(model)
    [(_, layer)] = resolve_target_layers(model)
    features = model.backbone.features
    assert name == f'backbone.features.{len(features) - 2}'
    assert type(features[-1]).__name__ == 'MaxPool2d'
    assert type(layer).__name__ == 'ConvModule' and layer.with_activation
    assert layer.conv.out_channels == 256
    assert_cam_runs(model)  # through VGG's in-place ReLUs


def test_efficientnet_lite_uses_its_last_conv_stage():
    model = classifier(dict(type='EfficientNetLite'), 1280)
    assert default_target_layer(model) == 'backbone.layers.6'
    [(_, layer)] = resolve_target_layers(model)
    assert layer.conv.out_channels == 1280


def test_unknown_backbone_and_bad_layer_names_are_explained():
    model = classifier(dict(type='MobileNetV2', widen_factor=0.25), 1280)
    with pytest.raises(UserInputError, match='backbone MobileNetV2.*'
                       '--target-layers'):
        default_target_layer(model)
    model = MODELS.build(load_config(TINY_CONFIG).model)
    with pytest.raises(UserInputError, match=r'--target-layers '
                       r'backbone\.layer4\.9:.*Did you mean.*backbone\.layer4'):
        resolve_target_layers(model, ['backbone.layer4.9'])


class ColourDetector(torch.nn.Module):
    """Channel 0 fires on red, channel 1 on green (1x1 conv, then ReLU)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 2, 1)
        self.relu = torch.nn.ReLU()
        with torch.no_grad():
            self.conv.weight.zero_()
            self.conv.weight[0, 0] = self.conv.weight[1, 1] = 1.0
            self.conv.bias.fill_(-0.3)

    def forward(self, x):
        return (self.relu(self.conv(x)), )


@pytest.fixture(scope='module')
def colour_model():
    """Class 0 = "red", class 1 = "green": each logit is the mean of its
    detector channel, seen through a resize and a centre crop."""
    model = MODELS.build(dict(
        type='ImageClassifier', backbone=dict(type='ResNet', depth=18),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=2, in_channels=2),
        data_preprocessor=dict(type='ClsDataPreprocessor', mean=[0, 0, 0],
                               std=[255, 255, 255], to_rgb=True)))
    model.backbone = ColourDetector()
    with torch.no_grad():
        model.head.fc.weight.copy_(torch.eye(2))
        model.head.fc.bias.zero_()
    model._config = Config(dict(test_dataloader=dict(dataset=dict(pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='ResizeEdge', scale=64, edge='short'),
        dict(type='CenterCrop', crop_size=64),
        dict(type='PackInputs')]))))
    model._dataset_meta = dict(classes=['red', 'green'])
    return model.eval()


def two_squares():
    """96 x 128 RGB: after resize (64 x 85) and crop (x 10-74), a bright red
    square in the top-right quadrant and a dim green one bottom-left."""
    rgb = np.zeros((96, 128, 3), np.uint8)
    rgb[8:40, 72:104, 0] = 255   # view: rows 5-27, columns 37-59
    rgb[56:88, 24:56, 1] = 160   # view: rows 37-59, columns 5-27
    return rgb


def quadrant_share(heatmap, vertical, horizontal):
    """Share of the map's mass in one quadrant, e.g. ('top', 'right')."""
    h, w = heatmap.shape
    rows = slice(0, h // 2) if vertical == 'top' else slice(h // 2, h)
    cols = slice(0, w // 2) if horizontal == 'left' else slice(w // 2, w)
    return float(heatmap[rows, cols].sum() / heatmap.sum())


def test_map_sits_on_the_evidence_for_each_class(colour_model, tmp_path):
    rgb = two_squares()
    overlay, heatmap, pred = cam_overlay(colour_model, rgb,
                                         target_layers=['backbone.relu'])
    # The map is in the model's view (resized and cropped), not the photo's.
    assert overlay.shape == (64, 64, 3) and overlay.dtype == np.uint8
    assert heatmap.shape == (64, 64) and heatmap.max() == pytest.approx(1)
    assert pred == dict(label=0, score=pytest.approx(pred['score']),
                        target=0, **{'class': 'red'})
    assert pred['score'] > 0.5
    # Nearly all the map's mass on the red square (uniform would be 25 %,
    # a transposed or mirrored map would land in another quadrant).
    assert quadrant_share(heatmap, 'top', 'right') > 0.95
    # Asked about "green", the map moves to the green square; the same
    # photo read from a file gives the same map.
    path = tmp_path / 'squares.png'
    Image.fromarray(rgb).save(path)
    _, green, pred = cam_overlay(colour_model, str(path), target='green',
                                 target_layers=['backbone.relu'])
    assert pred['target'] == 1 and pred['label'] == 0
    assert quadrant_share(green, 'bottom', 'left') > 0.95
    # Where the map is hot, the overlay is redder than the dark photo.
    assert overlay[16, 48, 0] > overlay[48, 16, 0] + 100
    # No gradients are left on the shared model.
    assert all(p.grad is None for p in colour_model.parameters())


def test_views_of_different_sizes_share_a_batch(colour_model, monkeypatch):
    # No crop: a 96 x 128 photo becomes 32 x 42, a 64 x 64 one 32 x 32,
    # padded to 32 x 42 in the batch; each map comes back at its own size.
    monkeypatch.setattr(colour_model, '_config', Config(dict(
        test_dataloader=dict(dataset=dict(pipeline=[
            dict(type='ResizeEdge', scale=32, edge='short'),
            dict(type='PackInputs')])))))
    square = np.zeros((64, 64, 3), np.uint8)
    square[:32, :32, 0] = 255
    wide, small = compute_cams(colour_model, [two_squares(), square],
                               target_layers=['backbone.relu'])
    assert wide[0].shape == (32, 42, 3) and wide[1].shape == (32, 42)
    assert small[0].shape == (32, 32, 3) and small[1].shape == (32, 32)
    assert quadrant_share(small[1], 'top', 'left') > 0.95


def test_layers_without_a_feature_map_are_refused(colour_model):
    with pytest.raises(UserInputError, match=r'head\.fc.*\(N, C, H, W\)'):
        cam_overlay(colour_model, two_squares(), target_layers=['head.fc'])
    with pytest.raises(UserInputError, match="'blue' is not one of"):
        cam_overlay(colour_model, two_squares(), target='blue',
                    target_layers=['backbone.relu'])
