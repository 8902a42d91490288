"""Calibration, prediction files, significance tests and (:mod:`.metrics`)
registered metrics; imports nothing, for the torch-free ONNX path."""
