"""Models and model wrappers registered into mmpretrain."""
from .backbones import EfficientNetLite
from .wrappers import AnyDeviceDistributedDataParallel

__all__ = ['AnyDeviceDistributedDataParallel', 'EfficientNetLite']
