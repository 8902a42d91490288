"""Hooks registered into mmpretrain's ``HOOKS``."""
from .channels_last_hook import ChannelsLastHook, to_channels_last
from .progress_bar_hook import ProgressBarHook
from .train_accuracy_hook import TrainAccuracyHook

__all__ = ['ChannelsLastHook', 'ProgressBarHook', 'TrainAccuracyHook',
           'to_channels_last']
