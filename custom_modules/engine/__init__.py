"""Hooks, schedulers, an optimizer wrapper and a runner registered into
mmpretrain's registries. Importing it also makes every mmengine checkpoint
load go through ``torch.load(weights_only=True)`` with the globals mmengine
checkpoints need allow-listed (:mod:`.checkpoint_loading`,
:mod:`.checkpoint_safety`)."""
import warnings

# mmcv-lite has no compiled ops; classification never uses them.
warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDef')

from .checkpoint_loading import register_checkpoint_loaders  # noqa: E402
from .checkpoint_safety import register_safe_globals  # noqa: E402
from .hooks import (  # noqa: E402
    AtomicCheckpointHook,
    ChannelsLastHook,
    ProgressBarHook,
    TrainAccuracyHook,
)
from .optimizers import CpuAmpOptimWrapper  # noqa: E402
from .runners import QuietRunner  # noqa: E402
from .schedulers import (  # noqa: E402
    WarmupStepCosineLR,
    WarmupStepCosineParamScheduler,
)

register_safe_globals()
register_checkpoint_loaders()

__all__ = ['AtomicCheckpointHook', 'ChannelsLastHook', 'CpuAmpOptimWrapper',
           'ProgressBarHook', 'QuietRunner', 'TrainAccuracyHook',
           'WarmupStepCosineLR', 'WarmupStepCosineParamScheduler',
           'register_checkpoint_loaders', 'register_safe_globals']
