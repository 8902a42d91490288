"""Validation and testing on CUDA in the autocast dtype training uses."""
import torch
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class EvalAutocastDtypeHook(Hook):
    """Make CUDA autocast default to ``dtype`` for the run: mmengine's loops
    enter autocast without one (float16), whatever ``--amp-dtype`` trained.

    Args:
        dtype (str): Name of a torch dtype, e.g. ``'bfloat16'``.
    """

    def __init__(self, dtype='bfloat16'):
        self.dtype = getattr(torch, dtype)

    def before_run(self, runner):
        self._previous = torch.get_autocast_dtype('cuda')
        torch.set_autocast_dtype('cuda', self.dtype)

    def after_run(self, runner):
        torch.set_autocast_dtype('cuda', self._previous)
