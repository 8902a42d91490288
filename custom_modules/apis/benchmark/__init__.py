"""The project's benchmarks, timed the same way (:mod:`.timing`): training, test and
inference speed (:mod:`.torch_speed`), ONNX Runtime against PyTorch (:mod:`.onnx`)
and the annotation tool's files/s (:mod:`.annotations`)."""
