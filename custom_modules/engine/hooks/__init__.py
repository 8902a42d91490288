"""Hooks registered into mmpretrain's ``HOOKS``."""
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .channels_last_hook import ChannelsLastHook, to_channels_last
from .eval_autocast_dtype_hook import EvalAutocastDtypeHook
from .keep_logits_hook import KeepLogitsHook, keep_logits
from .optuna_pruning_hook import OptunaPruningHook
from .progress_bar_hook import ProgressBarHook
from .test_metrics_hook import TestMetricsToVisBackendsHook
from .train_accuracy_hook import TrainAccuracyHook
from .wall_clock_hook import WallClockHook

__all__ = ['AtomicCheckpointHook', 'ChannelsLastHook', 'EvalAutocastDtypeHook',
           'KeepLogitsHook', 'OptunaPruningHook', 'ProgressBarHook',
           'TestMetricsToVisBackendsHook', 'TrainAccuracyHook', 'WallClockHook',
           'keep_logits', 'to_channels_last']
