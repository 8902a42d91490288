"""Speed of training, testing, inference and ONNX Runtime, timed the same way."""
