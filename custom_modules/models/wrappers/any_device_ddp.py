"""Data-parallel training on GPUs and on CPUs with one wrapper."""
from mmengine.model import MMDistributedDataParallel
from mmpretrain.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class AnyDeviceDistributedDataParallel(MMDistributedDataParallel):
    """:class:`MMDistributedDataParallel` that also wraps CPU modules.

    The Runner passes ``device_ids=[LOCAL_RANK]``, which torch refuses for
    a CPU module; for one it is dropped, with ``output_device``.

    Args:
        module (nn.Module): The model to wrap.
        **kwargs: As :class:`MMDistributedDataParallel`.
    """

    def __init__(self, module, **kwargs):
        param = next(module.parameters(), None)
        if param is not None and param.device.type == 'cpu':
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
        super().__init__(module=module, **kwargs)
