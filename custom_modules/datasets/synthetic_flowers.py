"""Draw a synthetic 5-class flower photo set, one folder per class, each
image from its own seed (the same set on any machine)."""
import math
import os
import os.path as osp

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from custom_modules.utils.errors import UserInputError

CLASSES = ('daisy', 'dandelion', 'rose', 'sunflower', 'tulip')


def _jitter(rng, rgb, amount=25):
    return tuple(int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255))
                 for c in rgb)


def _background(rng, size):
    top = _jitter(rng, rng.choice([(90, 140, 70), (120, 160, 210),
                                   (70, 100, 50), (140, 120, 90)]), 30)
    bottom = _jitter(rng, (60, 100, 45), 30)
    ramp = np.linspace(0, 1, size)[:, None, None]
    img = (1 - ramp) * np.array(top) + ramp * np.array(bottom)
    img = np.broadcast_to(img, (size, size, 3)) + rng.normal(
        0, 12, (size, size, 3))
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def _petal_ring(draw, rng, cx, cy, count, inner, length, width, color):
    phase = rng.uniform(0, 2 * math.pi)
    for i in range(count):
        a = phase + 2 * math.pi * i / count
        px, py = cx + math.cos(a) * (inner + length / 2), cy + math.sin(
            a) * (inner + length / 2)
        dx, dy = math.cos(a) * length / 2, math.sin(a) * length / 2
        nx, ny = -math.sin(a) * width / 2, math.cos(a) * width / 2
        draw.polygon([(px - dx, py - dy), (px + nx, py + ny),
                      (px + dx, py + dy), (px - nx, py - ny)],
                     fill=_jitter(rng, color, 15))


def _disc(draw, cx, cy, r, color):
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=color)


def _daisy(draw, rng, cx, cy, r):
    _petal_ring(draw, rng, cx, cy, int(rng.integers(14, 22)), r * 0.15,
                r * 0.85, r * 0.22, (245, 245, 240))
    _disc(draw, cx, cy, r * 0.25, _jitter(rng, (235, 190, 30)))


def _dandelion(draw, rng, cx, cy, r):
    for layer in range(3):
        _petal_ring(draw, rng, cx, cy, int(rng.integers(30, 45)), 0,
                    r * (1 - 0.25 * layer), r * 0.12, (250, 215, 20))
    _disc(draw, cx, cy, r * 0.3, _jitter(rng, (240, 200, 10)))


def _rose(draw, rng, cx, cy, r):
    base = rng.choice([(200, 20, 40), (230, 90, 140), (180, 10, 30)])
    for i in range(5):
        rr = r * (1 - i * 0.18)
        shade = tuple(max(0, c - 18 * i) for c in base)
        off = rng.uniform(-0.08, 0.08, 2) * r
        _disc(draw, cx + off[0], cy + off[1], rr, _jitter(rng, shade, 10))
        draw.arc([cx - rr * 0.8, cy - rr * 0.8, cx + rr * 0.8, cy + rr * 0.8],
                 rng.uniform(0, 360), rng.uniform(0, 360) + 200,
                 fill=tuple(max(0, c - 60) for c in shade), width=2)


def _sunflower(draw, rng, cx, cy, r):
    _petal_ring(draw, rng, cx, cy, int(rng.integers(18, 26)), r * 0.35,
                r * 0.65, r * 0.25, (250, 200, 20))
    _disc(draw, cx, cy, r * 0.45, _jitter(rng, (90, 50, 20), 15))


def _tulip(draw, rng, cx, cy, r):
    color = rng.choice([(220, 30, 60), (240, 120, 20), (150, 40, 150),
                        (245, 210, 40)])
    draw.line([(cx, cy), (cx + rng.uniform(-4, 4), cy + 2.5 * r)],
              fill=(40, 130, 40), width=max(2, int(r * 0.15)))
    for dx in (-0.45, 0.0, 0.45):
        x = cx + dx * r
        draw.ellipse([x - r * 0.4, cy - r * 0.9, x + r * 0.4, cy + r * 0.5],
                     fill=_jitter(rng, color, 20))


DRAWERS = dict(daisy=_daisy, dandelion=_dandelion, rose=_rose,
               sunflower=_sunflower, tulip=_tulip)


def draw_flower(class_name, seed, size=96):
    """One RGB image of ``class_name``, fully determined by ``seed``."""
    rng = np.random.default_rng(seed)
    img = _background(rng, size)
    draw = ImageDraw.Draw(img)
    r = size * rng.uniform(0.22, 0.36)
    cx, cy = (size / 2 + rng.uniform(-0.15, 0.15, 2) * size)
    if class_name != 'tulip':  # a stem below the head
        draw.line([(cx, cy), (cx + rng.uniform(-6, 6), size)],
                  fill=(40, 120, 40), width=max(2, int(r * 0.12)))
    DRAWERS[class_name](draw, rng, cx, cy, r)
    return img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9)))


def make_dataset(out_dir, per_class=80, size=96, seed=0, force=False):
    """Write ``per_class`` JPEGs per class under ``out_dir/<class>/``."""
    if osp.isdir(out_dir) and os.listdir(out_dir) and not force:
        raise UserInputError(
            f'{out_dir} is not empty; pass --force to add to it, or choose '
            'another folder.')
    for label, name in enumerate(CLASSES):
        os.makedirs(osp.join(out_dir, name), exist_ok=True)
        for i in range(per_class):
            img = draw_flower(name, seed * 1_000_003 + label * 10_007 + i, size)
            img.save(osp.join(out_dir, name, f'{name}_{i:04d}.jpg'),
                     quality=90)
    return out_dir
