"""Hooks registered into mmpretrain's ``HOOKS``."""
from .train_accuracy_hook import TrainAccuracyHook

__all__ = ['TrainAccuracyHook']
