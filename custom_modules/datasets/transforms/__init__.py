"""Transforms registered into mmpretrain's ``TRANSFORMS``."""
from .shifts import SHIFTS, ImageShift, RandomDegrade, shift_transform

__all__ = ['SHIFTS', 'ImageShift', 'RandomDegrade', 'shift_transform']
