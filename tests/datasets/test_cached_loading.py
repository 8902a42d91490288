"""CachedLoadImageFromFile: the same images as LoadImageFromFile, decoded
once, within its byte budget."""
from unittest import mock

import cv2
import mmcv
import numpy as np
import pytest
from mmpretrain.registry import TRANSFORMS

import custom_modules.datasets  # noqa: F401  (registers the transforms)


@pytest.fixture(scope='module')
def photos(tmp_path_factory):
    """Five 60 x 80 JPEGs of noise."""
    root = tmp_path_factory.mktemp('photos')
    rng = np.random.default_rng(0)
    paths = []
    for i in range(5):
        path = str(root / f'{i}.jpg')
        cv2.imwrite(path, rng.integers(0, 256, (60, 80, 3), np.uint8))
        paths.append(path)
    return paths


def load(transform, path):
    return transform(dict(img_path=path))


def test_same_arrays_as_uncached_and_second_pass_does_not_decode(photos):
    plain = TRANSFORMS.build(dict(type='LoadImageFromFile'))
    cached = TRANSFORMS.build(dict(type='CachedLoadImageFromFile'))
    with mock.patch.object(mmcv, 'imfrombytes',
                           wraps=mmcv.imfrombytes) as decode:
        for _epoch in range(2):
            for path in photos:
                got, want = load(cached, path), load(plain, path)
                np.testing.assert_array_equal(got['img'], want['img'])
                assert got['img_shape'] == want['img_shape'] == (60, 80)
                assert got['ori_shape'] == want['ori_shape']
    # the plain loader decoded 10 times, the cached one only in epoch 1
    assert decode.call_count == 10 + 5


def test_returns_a_copy(photos):
    cached = TRANSFORMS.build(dict(type='CachedLoadImageFromFile'))
    first = load(cached, photos[0])['img']
    first[:] = 0
    assert load(cached, photos[0])['img'].any()


def test_respects_budget_and_evicts_least_recently_used(photos):
    one = 60 * 80 * 3
    cached = TRANSFORMS.build(dict(type='CachedLoadImageFromFile',
                                   cache_mb=2.5 * one / 2**20))
    for path in photos[:3]:
        load(cached, path)
    assert list(cached.cache) == photos[1:3]
    assert cached.cached_bytes == 2 * one <= cached.cache_bytes
    load(cached, photos[1])  # a hit: photos[1] is now the most recent
    load(cached, photos[3])
    assert list(cached.cache) == [photos[1], photos[3]]
    off = TRANSFORMS.build(dict(type='CachedLoadImageFromFile', cache_mb=0))
    load(off, photos[0])
    assert not off.cache


def test_shrinks_to_max_short_side_on_load(photos):
    cached = TRANSFORMS.build(dict(type='CachedLoadImageFromFile',
                                   max_short_side=30))
    results = load(cached, photos[0])
    assert results['img'].shape == (30, 40, 3)
    assert results['img_shape'] == (30, 40)
    assert results['ori_shape'] == (60, 80)
    big = TRANSFORMS.build(dict(type='CachedLoadImageFromFile',
                                max_short_side=100))
    assert load(big, photos[0])['img'].shape == (60, 80, 3)
