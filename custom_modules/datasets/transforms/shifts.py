"""Photos from elsewhere, simulated: the shifts of
``tools/analysis/robustness.py`` and a training-time degradation.

Each shift is a transform with a ``severity`` 1 (mild) to 5, applied to
``results['img']`` (BGR uint8) after ``LoadImageFromFile``; its random draws
are seeded by the file name and ``seed``: the same on every run and machine.
"""
import os.path as osp
import zlib

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS


class ImageShift(BaseTransform):
    """A deterministic shift; subclasses set ``LEVELS`` (one parameter per
    severity) and implement ``shift(img, level, rng)``.

    Args:
        severity (int): 1 (mild) to 5 (strong).
        seed (int): Mixed with the image's file name to seed the shift's
            random draws.
    """

    LEVELS = ()

    def __init__(self, severity=3, seed=0):
        if severity not in range(1, len(self.LEVELS) + 1):
            raise ValueError(f'{type(self).__name__}: severity {severity} '
                             f'must be 1 to {len(self.LEVELS)}')
        self.severity = severity
        self.seed = seed

    def rng(self, results):
        """The generator of this image's file name (else index) and seed."""
        path = results.get('img_path')
        key = osp.basename(path) if path else str(results.get('sample_idx'))
        return np.random.default_rng(
            [self.seed, zlib.crc32(f'{type(self).__name__}/{key}'.encode())])

    def shift(self, img, level, rng):
        raise NotImplementedError

    def transform(self, results, rng=None):
        img = self.shift(results['img'], self.LEVELS[self.severity - 1],
                         rng or self.rng(results))
        results['img'] = np.ascontiguousarray(img)
        results['img_shape'] = img.shape[:2]
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(severity={self.severity}, '
                f'seed={self.seed})')


def resize(img, width, height, interpolation='bilinear'):
    return mmcv.imresize(img, (max(1, round(width)), max(1, round(height))),
                         interpolation=interpolation)


@TRANSFORMS.register_module()
class LowResShift(ImageShift):
    """A thumbnail (short side 96 ... 24 px) blown up to the input size."""

    LEVELS = (96, 64, 48, 32, 24)

    def shift(self, img, level, rng):
        h, w = img.shape[:2]
        scale = min(1.0, level / min(h, w))
        small = resize(img, w * scale, h * scale, 'area')
        return resize(small, w, h)


@TRANSFORMS.register_module()
class SquashShift(ImageShift):
    """Squashed to a square (severity 1), then the long axis to 1/1.25 ...
    1/2 of the short one."""

    LEVELS = (1.0, 1.25, 1.5, 1.75, 2.0)

    def shift(self, img, level, rng):
        h, w = img.shape[:2]
        short = min(h, w)
        if w >= h:
            return resize(img, short / level, short, 'area')
        return resize(img, short, short / level, 'area')


@TRANSFORMS.register_module()
class GaussianBlurShift(ImageShift):
    """Gaussian blur, sigma a share of the short side (0.5 ... 3 %)."""

    LEVELS = (0.005, 0.01, 0.015, 0.02, 0.03)

    def shift(self, img, level, rng):
        return cv2.GaussianBlur(img, (0, 0), level * min(img.shape[:2]))


@TRANSFORMS.register_module()
class MotionBlurShift(ImageShift):
    """Camera shake: a line kernel 2 ... 10 % of the short side long, at a
    random angle."""

    LEVELS = (0.02, 0.04, 0.06, 0.08, 0.1)

    def shift(self, img, level, rng):
        length = max(3, round(level * min(img.shape[:2])) | 1)
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2] = 1
        rotation = cv2.getRotationMatrix2D(
            ((length - 1) / 2, (length - 1) / 2), rng.uniform(0, 180), 1)
        kernel = cv2.warpAffine(kernel, rotation, (length, length))
        return cv2.filter2D(img, -1, kernel / kernel.sum())


@TRANSFORMS.register_module()
class JpegShift(ImageShift):
    """Re-encoded as JPEG at quality 50/40/30/20/10."""

    LEVELS = (50, 40, 30, 20, 10)

    def shift(self, img, level, rng):
        _, data = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, level])
        return cv2.imdecode(data, cv2.IMREAD_COLOR)


@TRANSFORMS.register_module()
class NoiseShift(ImageShift):
    """Gaussian pixel noise, sigma 4 ... 16 % of the range."""

    LEVELS = (0.04, 0.06, 0.08, 0.12, 0.16)

    def shift(self, img, level, rng):
        noise = rng.normal(0, level * 255, img.shape)
        return np.clip(img + noise, 0, 255).astype(np.uint8)


@TRANSFORMS.register_module()
class BrightnessShift(ImageShift):
    """Over-exposed: every pixel times 1.25 ... 2.5, clipped at white."""

    LEVELS = (1.25, 1.5, 1.75, 2.0, 2.5)

    def shift(self, img, level, rng):
        return mmcv.adjust_brightness(img, level)


@TRANSFORMS.register_module()
class ContrastShift(ImageShift):
    """Flat: 70 ... 15 % of the contrast kept."""

    LEVELS = (0.7, 0.5, 0.35, 0.25, 0.15)

    def shift(self, img, level, rng):
        return mmcv.adjust_contrast(img, level)


@TRANSFORMS.register_module()
class SaturationShift(ImageShift):
    """Faded colours: 70 ... 0 % of the saturation kept."""

    LEVELS = (0.7, 0.5, 0.3, 0.15, 0.0)

    def shift(self, img, level, rng):
        return mmcv.adjust_color(img, level)


@TRANSFORMS.register_module()
class ColourCastShift(ImageShift):
    """A wrong white balance: channel gains moved by up to 10 ... 50 %."""

    LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5)

    def shift(self, img, level, rng):
        direction = rng.uniform(-1, 1, 3)
        gains = 1 + level * direction / np.abs(direction).max()
        return np.clip(img * gains, 0, 255).astype(np.uint8)


@TRANSFORMS.register_module()
class ZoomOutShift(ImageShift):
    """The image shrunk to 1/1.25 ... 1/3 at a random place in a frame of
    the input size.

    Args:
        padding_mode (str): How the frame is filled (mmcv's ``impad``).
    """

    LEVELS = (1.25, 1.5, 2.0, 2.5, 3.0)

    def __init__(self, severity=3, seed=0, padding_mode='reflect'):
        super().__init__(severity, seed)
        self.padding_mode = padding_mode

    def shift(self, img, level, rng):
        h, w = img.shape[:2]
        small = resize(img, w / level, h / level, 'area')
        pad_h, pad_w = h - small.shape[0], w - small.shape[1]
        top, left = rng.integers(0, pad_h + 1), rng.integers(0, pad_w + 1)
        return mmcv.impad(small, padding=(left, top, pad_w - left,
                                          pad_h - top),
                          padding_mode=self.padding_mode)


@TRANSFORMS.register_module()
class OffCentreShift(ImageShift):
    """A crop of 90 ... 50 % of each side, in a random corner."""

    LEVELS = (0.9, 0.8, 0.7, 0.6, 0.5)

    def shift(self, img, level, rng):
        h, w = img.shape[:2]
        ch, cw = max(1, round(h * level)), max(1, round(w * level))
        top, left = rng.integers(0, 2, 2) * (h - ch, w - cw)
        return img[top:top + ch, left:left + cw]


# The benchmark's names for the shifts, in the order its table lists them.
SHIFTS = dict(
    low_res=LowResShift, squash=SquashShift, gaussian_blur=GaussianBlurShift,
    motion_blur=MotionBlurShift, jpeg=JpegShift, noise=NoiseShift,
    brightness=BrightnessShift, contrast=ContrastShift,
    saturation=SaturationShift, colour_cast=ColourCastShift,
    zoom_out=ZoomOutShift, off_centre=OffCentreShift)


def shift_transform(name, severity, seed=0):
    """The pipeline entry (a config dict) of the shift ``name``."""
    return dict(type=SHIFTS[name].__name__, severity=severity, seed=seed)


@TRANSFORMS.register_module()
class RandomDegrade(BaseTransform):
    """With probability ``prob``, ``num_ops`` of the shifts, each at a
    random severity up to ``max_severity``; random per call (numpy's global
    generator, which mmengine seeds per worker).

    Args:
        prob (float): Chance an image is degraded at all.
        shifts (Sequence[str]): Names from :data:`SHIFTS` to draw from.
        max_severity (int): The strongest severity drawn, 1 to 5.
        num_ops (int): How many different shifts a degraded image gets.
    """

    def __init__(self, prob=0.5, shifts=('low_res', 'jpeg', 'gaussian_blur',
                                          'squash'),
                 max_severity=5, num_ops=1):
        unknown = set(shifts) - set(SHIFTS)
        if unknown:
            raise ValueError(f'RandomDegrade: unknown shifts {sorted(unknown)}'
                             f'; choose from {list(SHIFTS)}')
        if not 1 <= num_ops <= len(shifts) or max_severity not in range(1, 6):
            raise ValueError('RandomDegrade: num_ops must be 1 to '
                             'len(shifts) and max_severity 1 to 5')
        self.prob = prob
        self.shifts = tuple(shifts)
        self.max_severity = max_severity
        self.num_ops = num_ops

    def transform(self, results):
        if np.random.rand() >= self.prob:
            return results
        for name in np.random.choice(self.shifts, self.num_ops, replace=False):
            shift = SHIFTS[name](np.random.randint(1, self.max_severity + 1))
            results = shift.transform(
                results, np.random.default_rng(np.random.randint(2**31)))
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(prob={self.prob}, '
                f'shifts={self.shifts}, max_severity={self.max_severity}, '
                f'num_ops={self.num_ops})')
