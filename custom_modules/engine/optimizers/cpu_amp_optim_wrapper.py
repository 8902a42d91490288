"""Mixed-precision training on the CPU, where mmengine's wrapper refuses."""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from mmengine.runner.amp import autocast
from mmpretrain.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CpuAmpOptimWrapper(OptimWrapper):
    """An :class:`OptimWrapper` whose forward pass runs under CPU autocast.

    mmengine's ``AmpOptimWrapper`` asserts a GPU. bfloat16 keeps float32's
    exponent range, so no loss scaling: backward and step are the plain
    wrapper's, on float32 master weights.

    Args:
        dtype (str): Autocast dtype; only ``'bfloat16'`` exists on the CPU.
        **kwargs: Passed to :class:`OptimWrapper`.
    """

    def __init__(self, dtype='bfloat16', **kwargs):
        if dtype not in ('bfloat16', torch.bfloat16):
            raise ValueError(
                f'CpuAmpOptimWrapper: dtype={dtype!r}; CPU autocast computes '
                "in 'bfloat16' only (float16 needs AmpOptimWrapper on a GPU)")
        super().__init__(**kwargs)
        self.cast_dtype = torch.bfloat16

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), autocast(
                device_type='cpu', dtype=self.cast_dtype):
            yield
