"""Hooks registered into mmpretrain's ``HOOKS``."""
from .progress_bar_hook import ProgressBarHook
from .train_accuracy_hook import TrainAccuracyHook

__all__ = ['ProgressBarHook', 'TrainAccuracyHook']
