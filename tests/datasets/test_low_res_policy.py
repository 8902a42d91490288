"""LowResPolicy: small photos resized whole to the crop size, large ones
resized and centre-cropped exactly as the test pipelines do."""
import numpy as np
import pytest
from mmcv.transforms import Compose
from mmpretrain.registry import TRANSFORMS

import custom_modules.datasets  # noqa: F401  (registers the transforms)
from custom_modules.datasets.transforms import with_low_res_policy

USUAL = [dict(type='ResizeEdge', scale=256, edge='short'),
         dict(type='CenterCrop', crop_size=224)]


def run(transforms, shape):
    img = np.random.default_rng(0).integers(0, 256, (*shape, 3), np.uint8)
    compose = Compose([TRANSFORMS.build(t) for t in transforms])
    return compose(dict(img=img, img_shape=shape, ori_shape=shape))['img']


@pytest.mark.parametrize('shape', [(240, 320), (500, 224), (224, 224)])
def test_large_photos_as_before(shape):
    policy = with_low_res_policy(USUAL)
    assert np.array_equal(run(policy, shape), run(USUAL, shape))


@pytest.mark.parametrize('shape', [(96, 160), (223, 400), (32, 32)])
def test_small_photos_resized_whole(shape):
    policy = [dict(type='LowResPolicy')]
    img = np.random.default_rng(0).integers(0, 256, (*shape, 3), np.uint8)
    out = TRANSFORMS.build(policy[0])(dict(img=img, img_shape=shape))
    assert out['img'].shape == (224, 224, 3) and out['img_shape'] == (224,
                                                                      224)
    # the whole photo: its corners are still the corners
    assert np.abs(out['img'][0, 0].astype(int) - img[0, 0]).max() < 60
    assert not np.array_equal(out['img'], run(USUAL, shape))


def test_threshold_is_configurable():
    img = np.zeros((300, 400, 3), np.uint8)
    img[:, :20] = 255  # a white band the centre crop cuts off
    big = TRANSFORMS.build(dict(type='LowResPolicy', threshold=320))
    assert big(dict(img=img.copy()))['img'][:, 0].mean() > 200
    assert TRANSFORMS.build(dict(type='LowResPolicy'))(
        dict(img=img.copy()))['img'][:, 0].mean() == 0


def test_pipeline_swap_keeps_sizes_and_refuses_without_a_crop():
    pipeline = [dict(type='LoadImageFromFile'),
                dict(type='ResizeEdge', scale=288, edge='short',
                     interpolation='bicubic'),
                dict(type='CenterCrop', crop_size=256),
                dict(type='PackInputs')]
    assert with_low_res_policy(pipeline, 100) == [
        pipeline[0], dict(type='LowResPolicy', scale=288, crop_size=256,
                          threshold=100, interpolation='bicubic'),
        pipeline[3]]
    with pytest.raises(ValueError, match='no ResizeEdge'):
        with_low_res_policy([pipeline[0], pipeline[3]])
