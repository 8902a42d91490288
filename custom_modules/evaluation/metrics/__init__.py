from .calibration_metric import CalibrationMetric
from .dump_predictions import DumpPredictions

__all__ = ['CalibrationMetric', 'DumpPredictions']
