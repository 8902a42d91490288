"""Optimizer wrappers registered into mmpretrain's ``OPTIM_WRAPPERS``."""
from .cpu_amp_optim_wrapper import CpuAmpOptimWrapper

__all__ = ['CpuAmpOptimWrapper']
