"""Hooks registered into mmpretrain's ``HOOKS``."""
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .fault_injection_hook import FaultInjectionHook
from .train_accuracy_hook import TrainAccuracyHook

__all__ = ['AtomicCheckpointHook', 'FaultInjectionHook', 'TrainAccuracyHook']
