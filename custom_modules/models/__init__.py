"""Models registered into mmpretrain's ``MODELS``.

Configs load them with ``custom_imports = dict(imports=[...,
'custom_modules.models'])``.
"""
from .backbones import EfficientNetLite

__all__ = ['EfficientNetLite']
