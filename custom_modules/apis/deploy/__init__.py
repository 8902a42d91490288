"""Put a trained model to use outside the training stack: :mod:`.export` (a
checkpoint -> a checked ONNX model), :mod:`.onnx_classifier` (classify photos with it,
torch-free; ``apis.inference`` uses it for ``.onnx`` models), :mod:`.serve` (a local
web page and JSON API on it)."""
