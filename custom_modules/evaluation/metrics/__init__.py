from .dump_predictions import DumpPredictions

__all__ = ['DumpPredictions']
