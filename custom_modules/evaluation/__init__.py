"""Metrics registered into mmpretrain's METRICS registry, and the
calibration arithmetic they share with the tools."""
from .metrics import CalibrationMetric, DumpPredictions

__all__ = ['CalibrationMetric', 'DumpPredictions']
