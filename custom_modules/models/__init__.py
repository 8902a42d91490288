"""Models registered into mmpretrain's ``MODELS`` and model wrappers into
its ``MODEL_WRAPPERS``; configs load them with ``custom_imports``."""
from .backbones import EfficientNetLite
from .wrappers import AnyDeviceDistributedDataParallel

__all__ = ['AnyDeviceDistributedDataParallel', 'EfficientNetLite']
