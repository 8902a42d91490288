"""Backbones registered into mmpretrain's ``MODELS``."""
from .efficientnet_lite import EfficientNetLite

__all__ = ['EfficientNetLite']
