"""Transforms registered into mmpretrain's ``TRANSFORMS``."""
from .cached_loading import CachedLoadImageFromFile
from .shifts import SHIFTS, ImageShift, RandomDegrade, shift_transform

__all__ = ['CachedLoadImageFromFile', 'SHIFTS', 'ImageShift', 'RandomDegrade',
           'shift_transform']
