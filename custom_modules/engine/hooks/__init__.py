"""Hooks registered into mmpretrain's ``HOOKS``."""
from .channels_last_hook import ChannelsLastHook, to_channels_last
from .train_accuracy_hook import TrainAccuracyHook

__all__ = ['ChannelsLastHook', 'TrainAccuracyHook', 'to_channels_last']
