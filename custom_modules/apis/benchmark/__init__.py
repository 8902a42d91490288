"""The benchmarks, sharing :mod:`.timing`: :mod:`.torch_speed`,
:mod:`.onnx`, :mod:`.annotation_speed`, :mod:`.time_to_accuracy`."""
