"""Hooks, schedulers, an optimizer wrapper and a runner for mmpretrain's
registries; importing it routes every checkpoint load through
``torch.load(weights_only=True)`` (:mod:`.checkpoint_loading`)."""
from .checkpoint_loading import register_checkpoint_loaders
from .checkpoint_safety import register_safe_globals
from .hooks import (
    AtomicCheckpointHook,
    ChannelsLastHook,
    ProgressBarHook,
    TrainAccuracyHook,
)
from .optimizers import CpuAmpOptimWrapper
from .runners import QuietRunner
from .schedulers import WarmupStepCosineLR, WarmupStepCosineParamScheduler

register_safe_globals()
register_checkpoint_loaders()

__all__ = ['AtomicCheckpointHook', 'ChannelsLastHook', 'CpuAmpOptimWrapper',
           'ProgressBarHook', 'QuietRunner', 'TrainAccuracyHook',
           'WarmupStepCosineLR', 'WarmupStepCosineParamScheduler',
           'register_checkpoint_loaders', 'register_safe_globals']
