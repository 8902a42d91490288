"""Put a trained model to use outside the training stack.

* :mod:`.export`: a checkpoint -> an ONNX model carrying its normalisation,
  class names, resize/crop recipe and calibration, checked against PyTorch.
* :mod:`.onnx_classifier`: classify photos with that file using only
  onnxruntime, numpy and Pillow; ``apis.inference`` uses it for ``.onnx``
  models. It imports neither torch nor mmengine (an import-linter contract
  in pyproject.toml and ``tests/tools/deploy/test_export_onnx.py`` check it).
* :mod:`.serve`: a local web page and JSON API on such a model.
"""
