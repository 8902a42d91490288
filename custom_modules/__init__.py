"""Project code registered into mmpretrain's registries.

Importing this package (configs do it through ``custom_imports``) registers the
scheduler, the dataset, hooks and metrics, and allow-lists the globals that
mmengine checkpoints need under ``torch.load(weights_only=True)``.
"""
import warnings

# mmcv-lite has no compiled ops; classification never uses them.
warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDef')
# mmengine resolves the `mmpretrain::` config scope through pkg_resources.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

from .checkpoint_safety import register_safe_globals  # noqa: E402
from .datasets import AnnotatedImageFolder  # noqa: E402
from .hooks import TrainAccuracyHook  # noqa: E402
from .schedulers import WarmupStepCosineLR, WarmupStepCosineParamScheduler  # noqa: E402

register_safe_globals()

__all__ = [
    'AnnotatedImageFolder', 'TrainAccuracyHook', 'WarmupStepCosineLR',
    'WarmupStepCosineParamScheduler'
]
