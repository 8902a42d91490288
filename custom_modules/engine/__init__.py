"""Hooks and schedulers registered into mmpretrain's registries.

Importing this package also allow-lists the globals mmengine checkpoints need
under ``torch.load(weights_only=True)`` (see :mod:`.checkpoint_safety`), so
every config that imports it can resume and test.
"""
import warnings

# mmcv-lite has no compiled ops; classification never uses them.
warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDef')
# mmengine resolves the `mmpretrain::` config scope through pkg_resources.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

from .checkpoint_safety import register_safe_globals  # noqa: E402
from .hooks import AtomicCheckpointHook, TrainAccuracyHook  # noqa: E402
from .schedulers import (  # noqa: E402
    WarmupStepCosineLR,
    WarmupStepCosineParamScheduler,
)

register_safe_globals()

__all__ = ['AtomicCheckpointHook', 'TrainAccuracyHook', 'WarmupStepCosineLR',
           'WarmupStepCosineParamScheduler', 'register_safe_globals']
