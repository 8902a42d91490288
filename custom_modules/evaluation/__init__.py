"""Evaluation: calibration arithmetic, prediction files, significance tests,
and (in :mod:`.metrics`) the metrics registered into mmpretrain's
``METRICS``. Configs import ``custom_modules.evaluation.metrics``; this file
imports nothing, so the torch-free ONNX path can read calibrations."""
