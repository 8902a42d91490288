"""Transforms registered into mmpretrain's ``TRANSFORMS``."""
from .cached_loading import CachedLoadImageFromFile
from .low_res_policy import LowResPolicy, with_low_res_policy
from .shifts import SHIFTS, ImageShift, RandomDegrade, shift_transform

__all__ = ['CachedLoadImageFromFile', 'LowResPolicy', 'SHIFTS', 'ImageShift',
           'RandomDegrade', 'shift_transform', 'with_low_res_policy']
