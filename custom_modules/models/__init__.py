"""Models registered into mmpretrain's ``MODELS`` and model wrappers into
its ``MODEL_WRAPPERS``.

Configs load them with ``custom_imports = dict(imports=[...,
'custom_modules.models'])``.
"""
from .backbones import EfficientNetLite
from .wrappers import AnyDeviceDistributedDataParallel

__all__ = ['AnyDeviceDistributedDataParallel', 'EfficientNetLite']
