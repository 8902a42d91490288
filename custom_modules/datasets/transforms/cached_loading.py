"""Decode each image once per process: ``LoadImageFromFile`` with an LRU
cache. Each dataloader worker keeps its own; caches outlive an epoch only
with ``persistent_workers=True`` (or ``num_workers=0``)."""
from collections import OrderedDict

import mmcv
from mmcv.transforms import LoadImageFromFile
from mmpretrain.registry import TRANSFORMS


@TRANSFORMS.register_module()
class CachedLoadImageFromFile(LoadImageFromFile):
    """``LoadImageFromFile`` that keeps the decoded images in an LRU cache
    of at most ``cache_mb``.

    Args:
        cache_mb (float): The cache's budget in MiB, per process. 0 turns
            the cache off.
        max_short_side (int, optional): Shrink larger images to this short
            side (area interpolation) before caching them.
        **kwargs: ``LoadImageFromFile``'s arguments.
    """

    def __init__(self, cache_mb=1024, max_short_side=None, **kwargs):
        super().__init__(**kwargs)
        self.cache_bytes = int(cache_mb * 2**20)
        self.max_short_side = max_short_side
        self.cache = OrderedDict()
        self.cached_bytes = 0

    def load(self, results):
        """Decode and shrink one image: the cache's miss path."""
        results = super().transform(results)
        if results is None:
            return None
        img = results['img']
        short = min(img.shape[:2])
        if self.max_short_side and short > self.max_short_side:
            img = mmcv.imrescale(img, self.max_short_side / short,
                                 interpolation='area')
        return img, results['ori_shape']

    def transform(self, results):
        key = results['img_path']
        hit = self.cache.get(key)
        if hit is None:
            hit = self.load(results)
            if hit is None:
                return None
            if hit[0].nbytes <= self.cache_bytes:  # else too large to cache
                while self.cached_bytes + hit[0].nbytes > self.cache_bytes:
                    _, (old, _) = self.cache.popitem(last=False)
                    self.cached_bytes -= old.nbytes
                self.cache[key] = hit
                self.cached_bytes += hit[0].nbytes
        else:
            self.cache.move_to_end(key)
        img, ori_shape = hit
        results['img'] = img.copy()  # later transforms may write in place
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = ori_shape
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(cache_mb={self.cache_bytes / 2**20:g}'
                f', max_short_side={self.max_short_side}, '
                f'{super().__repr__().split("(", 1)[1]}')
