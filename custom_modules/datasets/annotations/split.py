"""Stratified, seeded splits that keep byte-identical copies together."""
import math
import random

from custom_modules.utils.errors import DatasetError

SPLIT_NAMES = ('train', 'val', 'test')


def parse_split(text):
    """``'8:2'`` -> ``(0.8, 0.2)``; ``'8:1:1'`` -> three ratios; a single
    non-zero ratio (``0:0:1``) puts every photo in one file."""
    try:
        parts = [float(p) for p in text.split(':')]
    except ValueError:
        parts = []
    nonzero = sum(1 for p in parts if p > 0)
    if len(parts) not in (2, 3) or not all(map(math.isfinite, parts)) or \
            any(p < 0 for p in parts) or not (
                nonzero == 1 or (parts[0] > 0 and parts[1] > 0)):
        raise DatasetError(
            f'--split {text!r}: give 2 or 3 finite, non-negative ratios with '
            'train and val above 0, e.g. 8:2 or 8:1:1, or one non-zero ratio '
            'to put every photo in one file, e.g. 0:0:1 (all in test.txt).')
    total = sum(parts)
    return tuple(p / total for p in parts)


def split_counts(n, ratios):
    """Images per split: largest remainder, every split at least one."""
    raw = [n * r for r in ratios]
    counts = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: counts[i] - raw[i])[
            :n - sum(counts)]:
        counts[i] += 1
    for i, r in enumerate(ratios):  # a split with a ratio gets >= 1 image
        if r > 0 and counts[i] == 0:
            donor = max(range(len(counts)), key=counts.__getitem__)
            counts[donor] -= 1
            counts[i] += 1
    return counts


def split_class(groups, ratios, seed, class_name):
    """Assign one class's groups (path lists: copies share a split) to
    splits, seeded by the class so other classes do not move it."""
    groups = sorted(groups)
    rng = random.Random(f'{seed}:{class_name}')
    rng.shuffle(groups)
    targets = split_counts(sum(len(g) for g in groups), ratios)
    bounds = [sum(targets[:i + 1]) for i in range(len(targets))]
    splits = [[] for _ in ratios]
    seen = 0
    for group in groups:
        index = next(i for i, b in enumerate(bounds) if seen < b)
        splits[index].extend(group)
        seen += len(group)
    return splits
