"""Metrics registered into mmpretrain's METRICS registry, and the
calibration arithmetic they share with the tools."""
from .metrics import CalibrationMetric

__all__ = ['CalibrationMetric']
