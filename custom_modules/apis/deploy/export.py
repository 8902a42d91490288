"""Export a trained checkpoint to ONNX and check it against PyTorch.

The graph holds the model's own data preprocessor and a softmax, and outputs the
probabilities and the logits (for the energy reject score); see
:mod:`.onnx_classifier` for it and its metadata. The temperature is applied when the
model is read, not baked in, so ``--no-calibration`` or another threshold need no
second export. The TorchScript-based exporter (``dynamo=False``) needs only ``onnx``;
opset 17 runs on every ONNX Runtime since 1.11.
"""
import copy
import glob
import io
import json
import math
import os.path as osp
import tempfile
import warnings
from types import SimpleNamespace

import numpy as np
import onnx
import onnxruntime as ort
import torch
from mmcv.cnn.bricks.conv2d_adaptive_padding import Conv2dAdaptivePadding
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmpretrain.apis import get_model
from mmpretrain.registry import DATASETS
from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from custom_modules.datasets.synthetic_flowers import make_dataset
from custom_modules.engine.pretrained import train_from_scratch
from custom_modules.evaluation.calibration import read_calibration
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import IMAGE_EXTENSIONS, atomic_write, check_new
from custom_modules.utils.paths import SHARED_PHOTOS

from ..config import load_config, set_data_root
from ..testing import resolve_test_split
from .onnx_classifier import INPUT_LAYOUT, OnnxClassifier, load_rgb

OPSET = 17
TOLERANCE = 1e-4  # max abs difference of probabilities, fp32
LOGIT_TOLERANCE = 1e-3  # max abs difference of logits, fp32
# The test-pipeline steps the torch-free classifier reproduces.
_SUPPORTED = {'LoadImageFromFile', 'ResizeEdge', 'CenterCrop', 'PackInputs'}


def _test_pipeline(cfg):
    return cfg.get('test_pipeline') or cfg.test_dataloader.dataset.pipeline


def preprocess_recipe(cfg):
    """The config's test pipeline as the ``preprocess`` metadata.

    Returns:
        dict: ``{'resize_edge': {'scale', 'edge'}, 'crop_size'}``.

    Raises:
        UserInputError: a step the torch-free classifier cannot reproduce.
    """
    pipeline = _test_pipeline(cfg)
    steps = {t['type']: t for t in pipeline}
    resize, crop = steps.get('ResizeEdge'), steps.get('CenterCrop')
    if set(steps) - _SUPPORTED or not resize or not crop:
        raise UserInputError(
            'the ONNX export reproduces a test pipeline of ResizeEdge then CenterCrop; '
            f'this config\'s has {[t["type"] for t in pipeline]}.')
    if (resize.get('backend', 'cv2') != 'cv2'
            or resize.get('interpolation', 'bilinear') != 'bilinear'):
        raise UserInputError('ResizeEdge: only the default cv2 bilinear resize is '
                             'reproduced without torch.')
    size = crop['crop_size']
    if not isinstance(size, int):
        if len(set(size)) != 1:
            raise UserInputError(
                f'CenterCrop crop_size={size}: only square crops are exported.')
        size = size[0]
    edge = {'scale': resize['scale'], 'edge': resize.get('edge', 'short')}
    return {'resize_edge': edge, 'crop_size': size}


def deployable(model):
    """``model`` as a module from RGB 0-255 NCHW to (probabilities, logits): its
    own data preprocessor (which expects cv2's BGR) and a softmax folded in."""

    class Deployable(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, images):
            data = self.model.data_preprocessor({'inputs': images.flip(1)})
            logits = self.model(data['inputs'], mode='tensor')
            return logits.softmax(-1), logits

    return Deployable().eval()


def _same_padding(size, kernel, stride, dilation):
    """(before, after): TF "same" padding along one axis, as mmcv pads."""
    total = max((math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1
                - size, 0)
    return total // 2, total - total // 2


def fold_same_padding(model, size):
    """A copy of ``model`` whose ``Conv2dAdaptivePadding`` layers (TF "same" padding,
    worked out at every call) pad by the constant amounts of a ``size`` x ``size``
    input: a plain ``nn.Conv2d``, after an ``nn.ZeroPad2d`` where the padding is not
    symmetric. The export then has no shape arithmetic and no ``Pad`` between
    quantized convolutions."""
    model = copy.deepcopy(model)
    sizes = {}

    def record(module, args):
        sizes[module] = args[0].shape[-2:]

    hooks = [m.register_forward_pre_hook(record) for m in model.modules()
             if isinstance(m, Conv2dAdaptivePadding)]
    with torch.no_grad():
        deployable(model)(torch.zeros(1, 3, size, size))
    for hook in hooks:
        hook.remove()
    for name, old in [(n, m) for n, m in model.named_modules() if m in sizes]:
        (top, bottom), (left, right) = map(
            _same_padding, sizes[old], old.kernel_size, old.stride, old.dilation)
        symmetric = (top, left) == (bottom, right)
        new = torch.nn.Conv2d(old.in_channels, old.out_channels, old.kernel_size,
                              old.stride, (top, left) if symmetric else 0,
                              old.dilation, old.groups, old.bias is not None)
        new.weight, new.bias = old.weight, old.bias
        if not symmetric:
            new = torch.nn.Sequential(torch.nn.ZeroPad2d((left, right, top, bottom)),
                                      new)
        parent, _, child = name.rpartition('.')
        setattr(model.get_submodule(parent), child, new.train(old.training))
    return model


def to_onnx(model, recipe, classes, source='', dynamo=False, calibration=None):
    """``model`` as ONNX bytes, see :func:`deployable`.

    Args:
        recipe (dict): :func:`preprocess_recipe`'s result.
        source (str): the checkpoint's name, for the metadata.
        dynamo (bool): use PyTorch's torch.export-based exporter (needs onnxscript).
        calibration (dict, optional): a ``read_calibration`` result to embed.
    """
    size = recipe['crop_size']
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        # The preprocessor's channel check is constant: images have 3.
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        torch.onnx.export(
            deployable(fold_same_padding(model, size)),
            (torch.rand(2, 3, size, size) * 255, ), buffer,
            dynamo=dynamo, opset_version=OPSET, input_names=['images'],
            output_names=['probs', 'logits'],
            dynamic_axes=dict.fromkeys(('images', 'probs', 'logits'), {0: 'batch'}))
    proto = onnx.load_from_string(buffer.getvalue())
    meta = {'classes': json.dumps(classes), 'preprocess': json.dumps(recipe),
            'input': f'images: {INPUT_LAYOUT}, any batch size',
            'output': 'probs: softmax probabilities, one column per class; '
                      'logits: the same before the softmax',
            'opset': str(OPSET), 'source_checkpoint': source}
    if calibration:
        meta['temperature'] = repr(calibration['temperature'])
        if calibration['threshold'] is not None:
            meta['threshold'] = repr(calibration['threshold'])
            meta['score'] = calibration['score']
    onnx.helper.set_model_props(proto, meta)
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def export_onnx(cfg, checkpoint, classes=None, calibration=True):
    """The checkpoint as ONNX bytes, not yet written.

    Args:
        checkpoint (str | None): None: random weights, classes named by number.
        classes (list[str], optional): if the checkpoint stores none.
        calibration (bool): embed ``<checkpoint>.calibration.json``, if there is one.

    Returns:
        tuple: (bytes, recipe, classes, the PyTorch model, the calibration or None).
    """
    recipe = preprocess_recipe(cfg)
    calibration = read_calibration(checkpoint) if checkpoint and calibration else None
    if checkpoint and not osp.isfile(checkpoint):
        raise UserInputError(f'checkpoint {checkpoint} does not exist.')
    train_from_scratch(cfg)  # every weight comes from the checkpoint
    model = get_model(cfg, pretrained=checkpoint, device='cpu').eval()
    classes = list(classes or getattr(model, '_dataset_meta', {}).get('classes') or (
        [] if checkpoint else map(str, range(cfg.model.head.num_classes))))
    if not classes:
        raise UserInputError(f'{checkpoint} stores no class names; pass --classes '
                             'classes.txt (one name per line).')
    data = to_onnx(model, recipe, classes, osp.basename(checkpoint or ''),
                   calibration=calibration)
    return data, recipe, classes, model, calibration


def sample_photos(folder=None, count=16):
    """``count`` image paths (0: all) spread over ``folder`` (default: the real flower
    photos, else freshly drawn synthetic ones)."""
    folder = folder or (SHARED_PHOTOS if osp.isdir(SHARED_PHOTOS) else None)
    if folder is None:
        folder = tempfile.mkdtemp(prefix='export_check_')
        make_dataset(folder, per_class=4, size=96, seed=3)
    photos = sorted(p for p in glob.glob(osp.join(folder, '**', '*'), recursive=True)
                    if p.lower().endswith(IMAGE_EXTENSIONS))
    if not photos:
        raise UserInputError(f'--photos {folder}: no images found.')
    return photos[::max(1, len(photos) // count)][:count] if count else photos


def compare_with_pytorch(onnx_model, model, photos, cfg, chunk=32):
    """Run ``photos`` through the export and through PyTorch.

    Returns:
        dict: ``images``; ``backend``, the engine that ran the export
        (``OnnxClassifier``'s default); ``max_abs_diff`` and ``top1_same`` on the
        same input (the torch-free resize and crop), which checks the export;
        ``pipeline_max_abs_diff`` and ``pipeline_top1_same`` against ``cfg``'s test
        pipeline (cv2 decoding and resize), which checks the whole torch-free path;
        ``logits_max_abs_diff``, of the logits on the same input.
    """
    classifier = OnnxClassifier(onnx_model)
    torch_probs = deployable(model)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    pipeline = Compose(_test_pipeline(cfg))
    parts = []
    for i, batch in zip(range(0, len(photos), chunk),
                        input_batches(classifier, photos, chunk)):
        bgr = torch.stack([pipeline({'img_path': p})['inputs']
                           for p in photos[i:i + chunk]])
        with torch.no_grad():
            same = torch_probs(torch.from_numpy(batch))
            parts.append((*classifier.run(batch), *(t.numpy() for t in same),
                          torch_probs(bgr.flip(1).float())[0].numpy()))
    ours, our_logits, same_input, logits, pipelined = map(np.concatenate, zip(*parts))
    report = {'images': len(photos), 'backend': classifier.backend,
              'logits_max_abs_diff': float(np.abs(our_logits - logits).max())}
    for prefix, theirs in (('', same_input), ('pipeline_', pipelined)):
        report[f'{prefix}max_abs_diff'] = float(np.abs(ours - theirs).max())
        report[f'{prefix}top1_same'] = int((ours.argmax(1) == theirs.argmax(1)).sum())
    return report


def split_images(cfg, split, count=0):
    """(image paths, labels) of the config's ``'train'`` or ``'test'`` split
    (``test.txt``, else the val split), ``count`` of them spread over it (0: all)."""
    if split == 'test':
        resolve_test_split(cfg)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    dataset = cfg[f'{split}_dataloader'].dataset
    try:
        dataset = DATASETS.build(dict(dataset, pipeline=[]))
    except (FileNotFoundError, OSError) as err:
        raise UserInputError(f'the {split} split cannot be read ({err}); pass the '
                             'annotation folder with --data-root.') from err
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    infos = infos[::max(1, len(infos) // count)][:count] if count else infos
    return [i['img_path'] for i in infos], [int(i['gt_label']) for i in infos]


def input_batches(classifier, paths, chunk=32):
    """``paths`` as the model's input batches (its torch-free resize and crop)."""
    for i in range(0, len(paths), chunk):
        yield np.stack([classifier.prepare(load_rgb(p)) for p in paths[i:i + chunk]])


def quantize_int8(data, batches):
    """``data`` (an fp32 export) as a statically quantized int8 model, after ONNX
    Runtime's ``quant_pre_process``: QDQ format, per-channel int8 weights, uint8
    activations calibrated (min/max) on ``batches`` (the model's input arrays), the
    softmax left float; the metadata kept, plus ``precision`` and ``quantization``.
    With uint8 activations (U8S8) the x86 kernels run every convolution as
    ``QLinearConv``; with the default int8 ones a third stayed float.

    Returns:
        bytes: the int8 model.
    """
    proto = onnx.load_from_string(data)
    softmax = [n.name for n in proto.graph.node if n.op_type == 'Softmax']
    meta = {p.key: p.value for p in proto.metadata_props}
    batches = list(batches)  # small beside the activations the calibrator keeps
    feeds = ({'images': b} for b in batches)
    reader = SimpleNamespace(get_next=lambda: next(feeds, None))  # a data reader
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = osp.join(tmp, 'fp32.onnx'), osp.join(tmp, 'int8.onnx')
        with open(src, 'wb') as f:
            f.write(data)
        quant_pre_process(src, src)  # folds constants (conv biases), shapes
        quantize_static(src, dst, reader, quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, nodes_to_exclude=softmax)
        proto = onnx.load(dst)
    meta.update(precision='int8', quantization=json.dumps({
        'method': 'onnxruntime quantize_static, QDQ, per-channel int8 weights, '
                  'uint8 activations (min/max)',
        'calibration_images': sum(map(len, batches))}))
    del proto.metadata_props[:]
    onnx.helper.set_model_props(proto, meta)
    return proto.SerializeToString()


def int8_coverage(data):
    """How much of the model ``data`` ONNX Runtime runs in int8, from the graph its
    CPU session optimises.

    Returns:
        dict: ``int8_convolutions`` (``QLinearConv`` nodes), ``convolutions``
        (``Conv`` nodes of the file) and ``dequantize`` (the int8 tensors that
        ``DequantizeLinear`` nodes take back to float: the quantized logits, which
        feed both the softmax and the ``logits`` output, count once).
    """
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    with tempfile.TemporaryDirectory() as tmp:
        options.optimized_model_filepath = osp.join(tmp, 'optimized.onnx')
        ort.InferenceSession(data, options, providers=['CPUExecutionProvider'])
        ran = onnx.load(options.optimized_model_filepath).graph.node
    ops = [n.op_type for n in onnx.load_from_string(data).graph.node]
    return {'int8_convolutions': [n.op_type for n in ran].count('QLinearConv'),
            'convolutions': ops.count('Conv'),
            'dequantize': len({n.input[0] for n in ran
                               if n.op_type == 'DequantizeLinear'})}


def export_int8(cfg, data, out, calibration_count=300, test_count=0, force=False):
    """Quantize the fp32 export ``data`` on ``calibration_count`` training images,
    compare it with fp32 on the test split (same input), and write it as ``out``.

    Returns:
        dict: ``images``, ``backend`` (the int8 model's), ``top1_agreement``,
        ``max_abs_diff``, ``fp32_accuracy`` and ``int8_accuracy`` (fractions), and
        :func:`int8_coverage`'s report.
    """
    check_new(out, force)
    ours = OnnxClassifier(data)
    train, _ = split_images(cfg, 'train', calibration_count)
    int8 = quantize_int8(data, input_batches(ours, train))
    theirs = OnnxClassifier(int8)
    paths, labels = split_images(cfg, 'test', test_count)
    p32, p8 = (np.concatenate(p) for p in zip(*[
        (ours.probabilities(b), theirs.probabilities(b))
        for b in input_batches(ours, paths)]))
    report = {'images': len(paths), 'backend': theirs.backend,
              'top1_agreement': float((p32.argmax(1) == p8.argmax(1)).mean()),
              'max_abs_diff': float(np.abs(p32 - p8).max()),
              'fp32_accuracy': float((p32.argmax(1) == labels).mean()),
              'int8_accuracy': float((p8.argmax(1) == labels).mean())}
    print(f'int8 vs fp32 ONNX ({report["backend"].split()[0]}) on '
          f'{report["images"]} test images: top-1 agreement '
          f'{100 * report["top1_agreement"]:.2f} %, accuracy fp32 '
          f'{100 * report["fp32_accuracy"]:.2f} % / int8 '
          f'{100 * report["int8_accuracy"]:.2f} %, max |p_int8 - p_fp32| = '
          f'{report["max_abs_diff"]:.3f} (calibrated on {len(train)} training images)')
    report.update(int8_coverage(int8))
    atomic_write(out, lambda f: f.write(int8), force, binary=True)
    print(f'wrote {out} (precision int8, {len(int8) / 2**20:.1f} MB; fp32 '
          f'{len(data) / 2**20:.1f} MB); ONNX Runtime runs '
          f'{report["int8_convolutions"]} of its {report["convolutions"]} '
          f'convolutions in int8, going back to float {report["dequantize"]} time(s)')
    return report


def export_checked(config, checkpoint, out=None, classes=None, photos=None,
                   check_count=16, calibration=True, force=False, cfg_options=None,
                   int8=False, data_root=None, calibration_count=300, test_count=0):
    """Write ``checkpoint`` as ``out`` (default: beside it, ``.onnx``) if ONNX Runtime
    agrees with PyTorch on ``check_count`` images from ``photos``; with ``int8``, also
    ``<out>.int8.onnx`` (:func:`export_int8`, on the splits under ``data_root``). The
    arguments are ``tools/deploy/export_onnx.py``'s.

    Returns:
        dict: :func:`compare_with_pytorch`'s report, with the int8 one as ``int8``.
    """
    out = out or osp.splitext(checkpoint)[0] + '.onnx'
    if not out.endswith('.onnx'):
        raise UserInputError(f'--out {out}: use a .onnx file name.')
    check_new(out, force)
    int8_out = out[:-len('.onnx')] + '.int8.onnx'
    if int8:
        check_new(int8_out, force)
    cfg = load_config(config, cfg_options)
    if data_root:
        set_data_root(cfg, data_root)
    photos = sample_photos(photos, check_count)
    data, recipe, classes, model, calibration = export_onnx(
        cfg, checkpoint, classes, calibration)
    report = compare_with_pytorch(data, model, photos, cfg)
    print('{backend} vs PyTorch on {images} photos, same input: max |p_onnx - p_torch| '
          '= {max_abs_diff:.2e} (logits {logits_max_abs_diff:.2e}), top-1 identical '
          '{top1_same}/{images}\ntorch-free resize/crop vs the config\'s test '
          'pipeline: max difference {pipeline_max_abs_diff:.2e}, top-1 identical '
          '{pipeline_top1_same}/{images}'.format_map(report))
    if (report['max_abs_diff'] >= TOLERANCE or report['top1_same'] != report['images']
            or report['logits_max_abs_diff'] >= LOGIT_TOLERANCE):
        raise UserInputError('the exported model disagrees with PyTorch (above); '
                             f'{out} was not written.')
    atomic_write(out, lambda f: f.write(data), force, binary=True)
    size = recipe['crop_size']
    print(f'wrote {out}: opset {OPSET}; input "images" {INPUT_LAYOUT}, N x 3 x {size} '
          f'x {size}; outputs "probs" and "logits"; classes {", ".join(classes)}')
    if not calibration:
        print('calibration: none embedded (raw probabilities, never "unknown"; '
              'tools/analysis/calibrate.py fits one)')
    else:
        threshold = calibration['threshold']
        print(f'calibration embedded from {calibration["path"]}: temperature '
              f'{calibration["temperature"]:.4f}, ' + (
                  'no threshold' if threshold is None else f'"unknown" where the '
                  f'{calibration["score"]} reject score is below {threshold:.4f}'))
    if int8:
        report['int8'] = export_int8(cfg, data, int8_out, calibration_count,
                                     test_count, force)
    return report

