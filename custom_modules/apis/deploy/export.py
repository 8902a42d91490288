"""Export a trained checkpoint to ONNX (``tools/deploy/export_onnx.py``).

The graph takes float32 RGB images, NCHW, values 0-255, with any batch size
and the test pipeline's crop size, and returns softmax probabilities: the
data preprocessor's channel order and mean/std are inside it. The class
names and the resize/crop recipe are metadata_props (see
:mod:`.onnx_classifier`), so the consumer needs no config; so are the
temperature and reject threshold of ``<checkpoint>.calibration.json`` when
there is one.

The temperature is applied when the model is read, not baked into the graph
(``logits / T``): ``probs`` stay the network's own probabilities, so the
export is checked against PyTorch as it is and ``--no-calibration`` or
another threshold need no second export; a consumer must read the metadata
for the threshold anyway, and the scaling (``softmax(log p / T)``, as
``tools/infer.py`` computes it for a checkpoint) is a few lines of numpy.

We use PyTorch's TorchScript-based exporter (``dynamo=False``): it needs no
package beyond ``onnx`` (the torch.export-based default also needs
``onnxscript``), traces these plain CNNs exactly, and writes opset 17, which
every ONNX Runtime since 1.11 runs. PyTorch marks it deprecated; switching is
the one ``dynamo`` argument of :func:`export_onnx`.
"""
import argparse
import glob
import io
import json
import os.path as osp
import tempfile

from custom_modules.engine.pretrained import train_from_scratch
from custom_modules.evaluation.calibration import read_calibration
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import IMAGE_EXTENSIONS, atomic_write, check_new

from ..config import ROOT, load_config

OPSET = 17
TOLERANCE = 1e-4  # max abs difference of probabilities, fp32
REAL_PHOTOS = osp.join(ROOT, '..', 'shared', 'datasets', 'flower_dataset')
# The test-pipeline steps the torch-free classifier reproduces.
_SUPPORTED = {'LoadImageFromFile', 'ResizeEdge', 'CenterCrop', 'PackInputs'}


def preprocess_recipe(cfg):
    """The config's test pipeline as ``{'resize_edge', 'crop_size'}``;
    anything the torch-free path cannot reproduce is refused."""
    pipeline = cfg.get('test_pipeline') or cfg.test_dataloader.dataset.pipeline
    steps = {t['type']: t for t in pipeline}
    unknown = [t['type'] for t in pipeline if t['type'] not in _SUPPORTED]
    resize, crop = steps.get('ResizeEdge'), steps.get('CenterCrop')
    if unknown or not resize or not crop:
        raise UserInputError(
            'the ONNX export reproduces a test pipeline of ResizeEdge then '
            f'CenterCrop; this config\'s has {[t["type"] for t in pipeline]}.')
    if (resize.get('backend', 'cv2') != 'cv2'
            or resize.get('interpolation', 'bilinear') != 'bilinear'):
        raise UserInputError('ResizeEdge: only the default cv2 bilinear '
                             'resize is reproduced without torch.')
    size = crop['crop_size']
    if not isinstance(size, int):
        if len(set(size)) != 1:
            raise UserInputError(f'CenterCrop crop_size={size}: only square '
                                 'crops are exported.')
        size = size[0]
    return {'resize_edge': {'scale': resize['scale'],
                            'edge': resize.get('edge', 'short')},
            'crop_size': size}


def load_model(cfg, checkpoint, classes=None):
    """The classifier with the checkpoint's weights, in eval mode."""
    if not osp.isfile(checkpoint):
        raise UserInputError(f'checkpoint {checkpoint} does not exist.')
    train_from_scratch(cfg)  # every weight comes from the checkpoint
    from mmpretrain.apis import get_model
    model = get_model(cfg, pretrained=checkpoint, device='cpu').eval()
    # get_model keeps the checkpoint's dataset_meta there (as mmpretrain's
    # ImageClassificationInferencer reads it).
    classes = classes or getattr(model, '_dataset_meta', {}).get('classes')
    if not classes:
        raise UserInputError(f'{checkpoint} stores no class names; pass '
                             '--classes classes.txt (one name per line).')
    return model, list(classes)


def deployable(model):
    """``model`` with its data preprocessor folded in: RGB 0-255 NCHW ->
    probabilities."""
    import torch

    pre = model.data_preprocessor
    normalize = getattr(pre, '_enable_normalize', False)

    class Deployable(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model
            # The preprocessor sees cv2's BGR and flips it when to_rgb;
            # without to_rgb the network was trained on BGR.
            self.to_bgr = not getattr(pre, 'to_rgb', False)
            self.register_buffer(
                'mean', pre.mean.clone() if normalize else torch.zeros(3, 1, 1))
            self.register_buffer(
                'std', pre.std.clone() if normalize else torch.ones(3, 1, 1))

        def forward(self, images):
            if self.to_bgr:
                images = images.flip(1)
            scores = self.model((images - self.mean) / self.std,
                                mode='tensor')
            return scores.softmax(-1)

    return Deployable().eval()


def calibration_metadata(calibration):
    """metadata_props for a :func:`read_calibration` result (or None)."""
    if not calibration:
        return {}
    meta = {'temperature': repr(calibration['temperature'])}
    if calibration['threshold'] is not None:
        meta['threshold'] = repr(calibration['threshold'])
    return meta


def to_onnx(model, recipe, classes, source='', dynamo=False,
            calibration=None):
    """``model`` (with its preprocessor folded in) as ONNX bytes, with the
    class names, resize/crop recipe and ``calibration`` (a
    :func:`read_calibration` result) as metadata_props."""
    import onnx
    import torch

    size = recipe['crop_size']
    example = torch.rand(2, 3, size, size) * 255
    buffer = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            deployable(model), (example, ), buffer, dynamo=dynamo,
            opset_version=OPSET, input_names=['images'],
            output_names=['probs'],
            dynamic_axes={'images': {0: 'batch'}, 'probs': {0: 'batch'}})
    proto = onnx.load_from_string(buffer.getvalue())
    meta = {'classes': json.dumps(classes), 'preprocess': json.dumps(recipe),
            'input': 'images: float32 RGB NCHW 0-255, any batch size',
            'output': 'probs: softmax probabilities, one column per class',
            'opset': str(OPSET), 'source_checkpoint': source,
            **calibration_metadata(calibration)}
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def export_onnx(cfg, checkpoint, classes=None, calibration=True):
    """The checkpoint as ONNX bytes (not yet written), with its
    ``.calibration.json`` unless ``calibration`` is False; returns (bytes,
    recipe, classes, the PyTorch classifier, the calibration or None)."""
    recipe = preprocess_recipe(cfg)
    calibration = read_calibration(checkpoint) if calibration else None
    model, classes = load_model(cfg, checkpoint, classes)
    data = to_onnx(model, recipe, classes, osp.basename(checkpoint),
                   calibration=calibration)
    return data, recipe, classes, model, calibration


def sample_photos(folder=None, count=16):
    """``count`` photos (0: all) spread over the classes of ``folder``
    (default: the real flower photos, else freshly drawn synthetic ones)."""

    folder = folder or (REAL_PHOTOS if osp.isdir(REAL_PHOTOS) else None)
    if folder is None:
        from custom_modules.datasets.synthetic_flowers import make_dataset
        folder = tempfile.mkdtemp(prefix='export_check_')
        make_dataset(folder, per_class=4, size=96, seed=3)
    photos = sorted(p for p in glob.glob(osp.join(folder, '**', '*'),
                                         recursive=True)
                    if p.lower().endswith(IMAGE_EXTENSIONS))
    if not photos:
        raise UserInputError(f'--photos {folder}: no images found.')
    if not count:
        return photos
    step = max(1, len(photos) // count)
    return photos[::step][:count]


def parse_args(argv=None):
    from mmengine.config import DictAction

    parser = argparse.ArgumentParser(
        description='Export a checkpoint to ONNX and check it against '
        'PyTorch.')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', help='the .onnx file (default: the '
                        'checkpoint\'s path with .onnx)')
    parser.add_argument('--classes', help='classes.txt, if the checkpoint '
                        'has no class names')
    parser.add_argument('--photos', help='folder of images for the check '
                        '(default: ../shared/datasets/flower_dataset, else '
                        'generated images)')
    parser.add_argument('--check-count', type=int, default=16,
                        help='photos in the check, spread over the folder '
                        '(default: %(default)s; 0: every photo)')
    parser.add_argument('--force', action='store_true',
                        help='replace an existing --out file')
    parser.add_argument('--no-calibration', action='store_true',
                        help='leave out <checkpoint>.calibration.json (its '
                        'temperature and threshold are embedded otherwise)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='the overrides the checkpoint was trained with')
    return parser.parse_args(argv)


def main(argv=None):
    from .verify import compare_with_pytorch

    args = parse_args(argv)
    out = args.out or osp.splitext(args.checkpoint)[0] + '.onnx'
    if not out.endswith('.onnx'):
        raise UserInputError(f'--out {out}: use a .onnx file name.')
    check_new(out, args.force)
    classes = None
    if args.classes:
        with open(args.classes, encoding='utf-8') as f:
            classes = [line.strip() for line in f if line.strip()]
    cfg = load_config(args.config, args.cfg_options)
    photos = sample_photos(args.photos, args.check_count)
    data, recipe, classes, model, calibration = export_onnx(
        cfg, args.checkpoint, classes, not args.no_calibration)
    size = recipe['crop_size']
    report = compare_with_pytorch(data, model, photos, cfg)
    print(f'ONNX Runtime vs PyTorch on {report["images"]} photos, same '
          f'input: max |p_onnx - p_torch| = {report["max_abs_diff"]:.2e}, '
          f'top-1 identical {report["top1_same"]}/{report["images"]}')
    print(f'torch-free resize/crop vs the config\'s test pipeline: max '
          f'difference {report["pipeline_max_abs_diff"]:.2e}, top-1 '
          f'identical {report["pipeline_top1_same"]}/{report["images"]}')
    if report['max_abs_diff'] >= TOLERANCE or \
            report['top1_same'] != report['images']:
        raise UserInputError('the exported model disagrees with PyTorch '
                             f'(above); {out} was not written.')
    atomic_write(out, lambda f: f.write(data), args.force, binary=True)
    print(f'wrote {out}: opset {OPSET}; input "images" float32 RGB NCHW '
          f'0-255, N x 3 x {size} x {size}; output "probs"; classes '
          f'{", ".join(classes)}')
    print(describe_calibration(calibration))
    return report


def describe_calibration(calibration):
    """One line: what the exported model carries."""
    if not calibration:
        return ('calibration: none embedded (raw probabilities, never '
                '"unknown"; tools/analysis/calibrate.py fits one)')
    threshold = calibration['threshold']
    return (f'calibration embedded from {calibration["path"]}: temperature '
            f'{calibration["temperature"]:.4f}, ' + (
                'no threshold' if threshold is None else
                f'"unknown" below a top score of {threshold:.4f}'))
