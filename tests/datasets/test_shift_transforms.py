"""The robustness benchmark's shifts: registered, deterministic per image
and seed, and each changes the image as its name says."""
import cv2
import mmcv
import numpy as np
import pytest
from mmpretrain.registry import TRANSFORMS

import custom_modules.datasets  # noqa: F401  (registers the transforms)
from custom_modules.datasets.transforms import SHIFTS, shift_transform

RANDOM_DRAWS = ('motion_blur', 'noise', 'colour_cast', 'zoom_out',
                'off_centre')


@pytest.fixture(scope='module')
def photo():
    """A 240 x 320 BGR image with detail at every scale."""
    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur(rng.integers(0, 256, (240, 320, 3), np.uint8),
                           (0, 0), 1)
    return cv2.addWeighted(img, 0.6, cv2.resize(
        rng.integers(0, 256, (6, 8, 3), np.uint8), (320, 240)), 0.4, 0)


def shifted(photo, name, severity=3, seed=0, path='daisy/1.jpg', **kwargs):
    transform = TRANSFORMS.build(dict(shift_transform(name, severity, seed),
                                      **kwargs))
    results = transform(dict(img=photo.copy(), img_path=path,
                             img_shape=photo.shape[:2]))
    assert results['img'].dtype == np.uint8 and results['img'].ndim == 3
    assert results['img_shape'] == results['img'].shape[:2]
    return results['img']


def diff(a, b):
    return float(np.abs(a.astype(float) - b).mean())


@pytest.mark.parametrize('name', list(SHIFTS))
def test_registered_deterministic_and_changing(photo, name):
    assert TRANSFORMS.get(SHIFTS[name].__name__) is SHIFTS[name]
    for severity in (1, 5):
        out = shifted(photo, name, severity)
        np.testing.assert_array_equal(out, shifted(photo, name, severity))
        assert out.shape != photo.shape or diff(out, photo) > 0.5
    if name in RANDOM_DRAWS:  # the draws follow the seed and the image
        assert not np.array_equal(shifted(photo, name), shifted(
            photo, name, seed=1))
        assert not np.array_equal(shifted(photo, name), shifted(
            photo, name, path='rose/2.jpg'))
        # the file name, not the folder it lies in, picks the draws
        np.testing.assert_array_equal(shifted(photo, name), shifted(
            photo, name, path='/elsewhere/daisy/1.jpg'))


@pytest.mark.parametrize('severity', [0, 6])
def test_severity_out_of_range_refused(severity):
    with pytest.raises(ValueError, match='severity'):
        TRANSFORMS.build(shift_transform('jpeg', severity))


@pytest.mark.parametrize('severity', [1, 2, 3, 4, 5])
def test_low_resolution_keeps_no_more_detail_than_its_size(photo, severity):
    out = shifted(photo, 'low_res', severity)
    assert out.shape == photo.shape
    short = SHIFTS['low_res'].LEVELS[severity - 1]

    def round_trip(img):  # down to the low-resolution size and back up
        scale = short / 240
        small = mmcv.imresize(img, (round(320 * scale), short),
                              interpolation='area')
        return mmcv.imresize(small, (320, 240))

    # the output survives the round trip almost unchanged, the photo not
    assert diff(out, round_trip(out)) < 3
    assert diff(out, round_trip(out)) < 0.6 * diff(photo, round_trip(photo))
    # and it is close to the photo at that size
    assert diff(round_trip(photo), out) < 1


def test_squash_gives_the_square_then_squashes_the_long_side(photo):
    assert shifted(photo, 'squash', 1).shape == (240, 240, 3)
    assert shifted(photo, 'squash', 5).shape == (240, 120, 3)
    portrait = np.ascontiguousarray(photo.transpose(1, 0, 2))
    assert shifted(portrait, 'squash', 1).shape == (240, 240, 3)
    assert shifted(portrait, 'squash', 5).shape == (120, 240, 3)


@pytest.mark.parametrize('name', ['gaussian_blur', 'motion_blur'])
def test_blur_removes_fine_detail(photo, name):
    def sharpness(img):
        return cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY),
                             cv2.CV_64F).var()
    mild, strong = (sharpness(shifted(photo, name, s)) for s in (1, 5))
    assert strong < mild < sharpness(photo)


def test_jpeg_is_a_reencoding_at_the_quality(photo):
    out = shifted(photo, 'jpeg', 5)
    assert diff(out, photo) > 2
    _, data = cv2.imencode('.jpg', photo, [cv2.IMWRITE_JPEG_QUALITY, 10])
    np.testing.assert_array_equal(out, cv2.imdecode(data, cv2.IMREAD_COLOR))
    assert diff(shifted(photo, 'jpeg', 1), photo) < diff(out, photo)


def test_noise_has_the_severitys_spread():
    grey = np.full((100, 100, 3), 128, np.uint8)
    for severity, sigma in enumerate(SHIFTS['noise'].LEVELS, 1):
        noise = shifted(grey, 'noise', severity).astype(float) - 128
        assert abs(noise.mean()) < 1
        assert noise.std() == pytest.approx(sigma * 255, rel=0.1)


def test_colour_shifts(photo):
    brighter = shifted(photo, 'brightness', 1)
    assert brighter.mean() > photo.mean() + 10
    assert shifted(photo, 'brightness', 5).mean() > brighter.mean()
    assert shifted(photo, 'contrast', 3).std() < 0.5 * photo.std()
    grey = shifted(photo, 'saturation', 5).astype(int)
    assert np.abs(grey - grey[..., :1]).max() <= 1  # no colour left
    assert (np.std(shifted(photo, 'saturation', 1).astype(float), axis=2)
            .mean() < np.std(photo.astype(float), axis=2).mean())
    cast = shifted(photo, 'colour_cast', 5).reshape(-1, 3).mean(0)
    ratios = cast / photo.reshape(-1, 3).mean(0)
    assert ratios.max() - ratios.min() > 0.2  # the channels move apart


def test_zoom_out_puts_the_photo_small_in_a_frame(photo):
    out = shifted(photo, 'zoom_out', 5, padding_mode='constant')
    assert out.shape == photo.shape
    rows, cols = np.nonzero(out.any(axis=2))
    assert rows.max() - rows.min() + 1 == 80  # 240 / 3
    assert cols.max() - cols.min() + 1 == pytest.approx(107, abs=1)
    reflected = shifted(photo, 'zoom_out', 5)
    assert reflected.shape == photo.shape and reflected.all(axis=2).mean() > .9


def test_off_centre_crop_lies_in_a_corner(photo):
    out = shifted(photo, 'off_centre', 5)
    assert out.shape == (120, 160, 3)
    corners = [photo[t:t + 120, c:c + 160] for t in (0, 120) for c in (0, 160)]
    assert any(np.array_equal(out, c) for c in corners)


def test_random_degrade(photo):
    keep = TRANSFORMS.build(dict(type='RandomDegrade', prob=0))
    np.testing.assert_array_equal(keep(dict(img=photo.copy()))['img'], photo)
    degrade = TRANSFORMS.build(dict(type='RandomDegrade', prob=1,
                                    shifts=['low_res', 'jpeg'], num_ops=2))
    np.random.seed(3)
    first = degrade(dict(img=photo.copy()))
    assert first['img_shape'] == first['img'].shape[:2] == (240, 320)
    assert diff(first['img'], photo) > 1
    np.random.seed(3)  # mmengine seeds numpy: a seeded run repeats
    np.testing.assert_array_equal(degrade(dict(img=photo.copy()))['img'],
                                  first['img'])
    with pytest.raises(ValueError, match='unknown shifts'):
        TRANSFORMS.build(dict(type='RandomDegrade', shifts=['fog']))
