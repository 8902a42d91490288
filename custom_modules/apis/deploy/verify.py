"""Check an exported model against the PyTorch model it came from."""
import numpy as np

from .onnx_classifier import OnnxClassifier, load_rgb


def _torch_probs(model, bgr_batch):
    """PyTorch's probabilities for a batch the way training fed it: BGR
    0-255 through the model's own data preprocessor."""
    import torch
    with torch.no_grad():
        data = model.data_preprocessor(
            {'inputs': torch.as_tensor(bgr_batch)}, False)
        return model(data['inputs'], mode='tensor').softmax(-1).numpy()


def compare_with_pytorch(onnx_model, model, photos, cfg=None):
    """Run ``photos`` through ONNX Runtime and through PyTorch.

    ``max_abs_diff`` and ``top1_same`` compare the two on the same input
    (the torch-free resize and crop): the export itself. With ``cfg``,
    ``pipeline_*`` also compare the whole torch-free path against
    mmpretrain's test pipeline (cv2 decoding and resize).
    """
    classifier = OnnxClassifier(onnx_model)
    batch = np.stack([classifier.prepare(load_rgb(p)) for p in photos])
    ours = classifier.probabilities(batch)
    theirs = _torch_probs(model, np.ascontiguousarray(batch[:, ::-1]))
    report = {'images': len(photos),
              'max_abs_diff': float(np.abs(ours - theirs).max()),
              'top1_same': int((ours.argmax(1) == theirs.argmax(1)).sum())}
    if cfg is not None:
        reference = _torch_probs(model, _test_pipeline_batch(cfg, photos))
        report['pipeline_max_abs_diff'] = float(
            np.abs(ours - reference).max())
        report['pipeline_top1_same'] = int(
            (ours.argmax(1) == reference.argmax(1)).sum())
    return report


def _test_pipeline_batch(cfg, photos):
    """The photos through the config's test pipeline (BGR uint8 NCHW)."""
    from mmengine.dataset import Compose
    from mmengine.registry import init_default_scope

    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    pipeline = Compose(cfg.get('test_pipeline')
                       or cfg.test_dataloader.dataset.pipeline)
    return np.stack([pipeline({'img_path': p})['inputs'].numpy()
                     for p in photos]).astype(np.float32)
