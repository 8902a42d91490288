"""Put a trained model to use outside the training stack.

* :mod:`.export`: a checkpoint -> an ONNX model that carries its own
  normalisation, class names, resize/crop recipe and calibration
  (temperature, reject threshold), checked against PyTorch after export
  (``tools/deploy/export_onnx.py``).
* :mod:`.onnx_classifier`: classify photos with that file using only
  onnxruntime, numpy and Pillow (no torch, no mmengine); ``tools/infer.py``
  uses it for ``.onnx`` models.
* :mod:`.benchmark`: images/s of ONNX Runtime against PyTorch eager.

Nothing here is imported by ``custom_modules.apis``: the torch-free path
must stay importable on its own.
"""
