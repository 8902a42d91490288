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


def compare_with_pytorch(onnx_model, model, photos, cfg=None, chunk=32):
    """Run ``photos`` through ONNX Runtime and through PyTorch.

    ``max_abs_diff`` and ``top1_same`` compare the two on the same input
    (the torch-free resize and crop): the export itself. With ``cfg``,
    ``pipeline_*`` also compare the whole torch-free path against
    mmpretrain's test pipeline (cv2 decoding and resize).
    """
    classifier = OnnxClassifier(onnx_model)
    report = {'images': len(photos), 'max_abs_diff': 0.0, 'top1_same': 0}
    if cfg is not None:
        report.update(pipeline_max_abs_diff=0.0, pipeline_top1_same=0)
    for i in range(0, len(photos), chunk):
        part = photos[i:i + chunk]
        batch = np.stack([classifier.prepare(load_rgb(p)) for p in part])
        ours = classifier.probabilities(batch)
        pairs = [('', _torch_probs(model,
                                   np.ascontiguousarray(batch[:, ::-1])))]
        if cfg is not None:
            pairs.append(('pipeline_', _torch_probs(
                model, _test_pipeline_batch(cfg, part))))
        for prefix, theirs in pairs:
            report[f'{prefix}max_abs_diff'] = max(
                report[f'{prefix}max_abs_diff'],
                float(np.abs(ours - theirs).max()))
            report[f'{prefix}top1_same'] += int(
                (ours.argmax(1) == theirs.argmax(1)).sum())
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
