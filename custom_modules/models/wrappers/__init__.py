"""Model wrappers registered into mmpretrain's ``MODEL_WRAPPERS`` (a child
of mmengine's, so configs name them ``mmpretrain.<Name>``)."""
from .any_device_ddp import AnyDeviceDistributedDataParallel

__all__ = ['AnyDeviceDistributedDataParallel']
