"""Data-parallel training on GPUs and on CPUs with one wrapper."""
from mmengine.model import MMDistributedDataParallel
from mmpretrain.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class AnyDeviceDistributedDataParallel(MMDistributedDataParallel):
    """:class:`MMDistributedDataParallel` that also wraps CPU modules.

    mmengine's ``Runner.wrap_model`` gives every DistributedDataParallel
    subclass ``device_ids=[LOCAL_RANK]``, which torch refuses for a module
    on the CPU (a CPU process owns no device). For CPU modules this wrapper
    drops ``device_ids`` and ``output_device``; on GPUs it passes them on and
    is MMDistributedDataParallel unchanged (train_step, val_step, test_step).

    Select it with ``model_wrapper_cfg = dict(type='mmpretrain.
    AnyDeviceDistributedDataParallel', ...)``: mmengine's Runner looks the
    type up in its own registry, which reaches ours through the scope.
    """

    def __init__(self, module, **kwargs):
        param = next(module.parameters(), None)
        if param is not None and param.device.type == 'cpu':
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
        super().__init__(module=module, **kwargs)
