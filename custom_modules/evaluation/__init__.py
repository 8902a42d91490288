"""Metrics registered into mmpretrain's registry."""
from .metrics import DumpPredictions

__all__ = ['DumpPredictions']
