"""Validation and testing on CUDA in the autocast dtype training uses."""
import torch
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class EvalAutocastDtypeHook(Hook):
    """Make CUDA autocast default to ``dtype`` for the run.

    With ``fp16=True`` mmengine's ValLoop and TestLoop (and our
    TrainAccuracyHook, which follows the val loop) enter ``autocast``
    without a dtype, which on CUDA is torch's default, float16. Training
    with ``--amp --amp-dtype bfloat16`` would then validate in float16;
    this hook (added by that flag) sets torch's CUDA autocast default to
    the training dtype before the run and restores it after.
    """

    def __init__(self, dtype='bfloat16'):
        self.dtype = getattr(torch, dtype)

    def before_run(self, runner):
        self._previous = torch.get_autocast_dtype('cuda')
        torch.set_autocast_dtype('cuda', self.dtype)

    def after_run(self, runner):
        torch.set_autocast_dtype('cuda', self._previous)
