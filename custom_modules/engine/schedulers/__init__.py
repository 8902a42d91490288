"""Parameter schedulers registered into mmpretrain's ``PARAM_SCHEDULERS``."""
from .warmup_step_cosine import WarmupStepCosineLR, WarmupStepCosineParamScheduler

__all__ = ['WarmupStepCosineLR', 'WarmupStepCosineParamScheduler']
