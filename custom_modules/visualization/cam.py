"""Grad-CAM maps with ``pytorch_grad_cam`` (as mmpretrain's ``vis_cam``)
over the view the config's test pipeline makes, and the pictures
``tools/visualization/vis_cam.py`` draws; the model carries its config."""
import difflib
import os
import os.path as osp
import threading

import mmcv
import numpy as np
import torch
from matplotlib.figure import Figure
from mmcv.cnn import ConvModule
from mmcv.transforms import Compose
from mmengine.dataset import pseudo_collate
from mmpretrain.datasets import remove_transform
from mmpretrain.models.backbones import VGG, EfficientNet, ResNet
from mmpretrain.registry import TRANSFORMS

from custom_modules.evaluation.predictions import (
    image_grid,
    load_predictions,
    read_classes,
    select_examples,
)
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import save_figure

#: Held while a map is computed: Grad-CAM hooks the shared model's layers.
CAM_LOCK = threading.RLock()
BATCH = 8  # images per Grad-CAM pass: bounded memory on large backbones


def default_target_layer(model):
    """Name of the layer Grad-CAM weighs: the last block the classifier
    pools (the classic choice; mmpretrain's ``vis_cam`` takes a norm)."""
    backbone = getattr(model, 'backbone', None)
    # The last stage the neck reads.
    last = max(getattr(backbone, 'out_indices', None) or (-1, ))
    if isinstance(backbone, ResNet):  # its last block
        stage = backbone.res_layers[last]
        return f'backbone.{stage}.{len(getattr(backbone, stage)) - 1}'
    if isinstance(backbone, VGG):  # the last conv (+ReLU) of what is used
        stages = backbone.range_sub_modules
        end = stages[-1 if backbone.num_classes > 0 else last][1]
        convs = [i for i, m in enumerate(backbone.features[:end])
                 if isinstance(m, ConvModule)]
        return f'backbone.features.{convs[-1]}'
    if isinstance(backbone, EfficientNet):  # Lite0: the 1280-channel conv
        return f'backbone.layers.{last % len(backbone.layers)}'
    children = [f'backbone.{n}' for n, _ in getattr(
        backbone, 'named_children', lambda: [])()]
    raise UserInputError(
        f'no default Grad-CAM layer for backbone {type(backbone).__name__} '
        '(known: ResNet and its variants, VGG, EfficientNet/-Lite). Pass '
        '--target-layers with the module name of its last conv block'
        + (f'; its top-level modules: {", ".join(children[-6:])}'
           if children else '') + '.')


def resolve_target_layers(model, names=None):
    """``[(name, module)]`` for ``names`` (module names as
    ``model.named_modules()`` spells them), or the default layer."""
    names = list(names or [default_target_layer(model)])
    modules = dict(model.named_modules())
    for name in names:
        if name not in modules:
            close = difflib.get_close_matches(name, list(modules), n=3,
                                              cutoff=0.5)
            hint = f' Did you mean: {", ".join(close)}?' if close else ''
            try:
                example = default_target_layer(model)
            except UserInputError:
                example = 'backbone.layer4.2'
            raise UserInputError(
                f'--target-layers {name}: the model has no module of that '
                f'name.{hint} Names are dotted paths from the model, e.g. '
                f'{example}.')
    return [(name, modules[name]) for name in names]


def view_pipeline(model):
    """The config's test pipeline without its file loading."""
    cfg = getattr(model, '_config', None) or getattr(model, 'cfg', None)
    if cfg is None:
        raise UserInputError(
            'the model carries no config (its test pipeline is needed); '
            'build it with mmpretrain.apis.get_model(config, checkpoint).')
    steps = remove_transform(cfg.test_dataloader.dataset.pipeline,
                             'LoadImageFromFile')
    return Compose([TRANSFORMS.build(t) for t in steps])


def load_image(image):
    """An mmcv-style sample (BGR) from a path or an RGB(A)/gray array."""
    if isinstance(image, (str, os.PathLike)):
        try:
            img = mmcv.imread(os.fspath(image))
        except Exception as exc:  # decoders and file access raise many types
            raise UserInputError(f'{image}: cannot read image '
                                 f'({type(exc).__name__}: {exc})') from None
        if img is None:
            raise UserInputError(f'{image}: cannot decode image (corrupt, '
                                 'truncated or not an image).')
    else:
        rgb = np.asarray(image)
        if rgb.ndim == 2:
            rgb = np.stack([rgb] * 3, axis=2)
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
            raise UserInputError(
                f'image array of shape {rgb.shape} and dtype {rgb.dtype}: '
                'expected uint8 RGB (H, W, 3), RGBA or gray (H, W).')
        img = np.ascontiguousarray(rgb[..., 2::-1])  # RGB(A) -> BGR
    return dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2])


def _class_names(model):
    meta = (getattr(model, '_dataset_meta', None)
            or getattr(model, 'dataset_meta', None) or {})
    return list(meta.get('classes') or [])


def _class_index(model, target):
    """The index of a target class given by index or name."""
    if isinstance(target, str) and not target.isdigit():
        classes = _class_names(model)
        if target not in classes:
            raise UserInputError(
                f'target class {target!r} is not one of the model\'s '
                f'classes ({", ".join(classes) or "no names stored"}).')
        return classes.index(target)
    if int(target) < 0:
        raise UserInputError(f'target class {target}: a class index is '
                             '0 or more.')
    return int(target)


def compute_cams(model, images, targets=None, target_layers=None,
                 image_weight=0.5):
    """Grad-CAM for a batch, under :data:`CAM_LOCK`; frees the gradients.

    Args:
        model: an mmpretrain classifier carrying its config (``_config``).
        images: paths, or uint8 RGB arrays (H, W, 3).
        targets: per image, the class (index or name) to explain, or None
            for the predicted class; None for all predicted.
        target_layers: module names; default :func:`default_target_layer`.
        image_weight: the photo's share of the overlay.

    Returns:
        list: ``(overlay, heatmap, pred)`` per image: the view with the map
        blended in (uint8 RGB), the map (float32, [0, 1]) and the predicted
        ``label``, ``class``, ``score`` and the ``target`` explained.
    """
    # lazy: grad-cam is an optional dependency, needed for maps only
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.image import show_cam_on_image

    if targets is not None and len(targets) != len(images):
        raise ValueError('give one target per image (None: predicted)')
    layers = resolve_target_layers(model, target_layers)
    pipeline = view_pipeline(model)
    samples = [pipeline(load_image(image)) for image in images]
    # PackInputs gives the pipeline's BGR uint8 view as (C, H, W).
    views = [np.ascontiguousarray(s['inputs'].permute(1, 2, 0).numpy()[
        ..., ::-1]) for s in samples]
    labels = [None if t is None else _class_index(model, t)
              for t in targets or [None] * len(images)]
    # Grad-CAM targets: the score of the class explained (None: predicted)
    cam_targets = [lambda out, t=t: out[..., out.argmax(-1) if t is None else t]
                   for t in labels]
    with CAM_LOCK, torch.enable_grad():
        data = model.data_preprocessor(pseudo_collate(samples), False)
        # gradients reach the target layer even when all before it is frozen
        inputs = data['inputs'].detach().requires_grad_(True)
        cam = GradCAM(model=model, target_layers=[m for _, m in layers])
        try:
            heatmaps = cam(input_tensor=inputs, targets=cam_targets)
            logits = cam.outputs.detach().float()
        except IndexError:
            count = cam.outputs.shape[-1]
            bad = sorted({t for t in labels if t is not None and t >= count})
            raise UserInputError(
                f'target class {", ".join(map(str, bad))}: the model has '
                f'{count} classes (0 to {count - 1}).') from None
        except ValueError as exc:
            raise UserInputError(
                f'--target-layers {" ".join(n for n, _ in layers)}: Grad-CAM '
                f'needs a layer with a (N, C, H, W) feature map ({exc}).'
            ) from None
        finally:
            cam.activations_and_grads.release()
            model.zero_grad(set_to_none=True)
    scores = logits.softmax(-1)
    classes = _class_names(model)
    results = []
    for view, heatmap, score, target in zip(views, heatmaps, scores, labels):
        height, width = view.shape[:2]
        heatmap = np.float32(heatmap[:height, :width])  # batch padding
        label = int(score.argmax())
        overlay = show_cam_on_image(np.float32(view) / 255, heatmap,
                                    use_rgb=True, image_weight=image_weight)
        results.append((overlay, heatmap, dict(
            label=label, score=float(score[label]),
            **{'class': classes[label] if label < len(classes) else None},
            target=label if target is None else target)))
    return results


def cam_overlay(model, image_path_or_rgb, target=None, target_layers=None):
    """:func:`compute_cams` of one image and ``target`` class (index or
    name; default: the predicted one)."""
    return compute_cams(model, [image_path_or_rgb],
                        None if target is None else [target],
                        target_layers)[0]


def num_classes(model):
    """Outputs of the classifier (VGG keeps its own in the backbone)."""
    for part in (getattr(model, 'head', None), model.backbone):
        count = getattr(part, 'num_classes', None)
        if count and count > 0:
            return count
    return None


def draw_cams(model, preds, out, worst=8, per_class=2, target_layers=None,
              classes_file=None, force=False):
    """Write the grid of :func:`select_examples` of a ``tools/test.py
    --out`` file to ``out``, each map of the predicted class.

    Returns:
        tuple: ``(out, mistakes shown, correct shown, missing image paths)``.
    """
    scores, labels, paths = load_predictions(preds)
    expected = num_classes(model)
    if expected and expected != scores.shape[1]:
        raise UserInputError(
            f'{preds} has {scores.shape[1]} scores per image, the model '
            f'{expected} classes: the predictions come from another model.')
    classes = (read_classes(classes_file, scores.shape[1]) if classes_file
               else _class_names(model))
    if len(classes) != scores.shape[1]:
        classes = [str(i) for i in range(scores.shape[1])]
    wrong, right = select_examples(scores, labels, worst, per_class)
    layer = ', '.join(n for n, _ in resolve_target_layers(model, target_layers))
    chosen = [i for i in wrong + right if osp.isfile(paths[i])]
    missing = [paths[i] for i in wrong + right if not osp.isfile(paths[i])]
    predicted = scores.argmax(1)
    overlays = []
    for start in range(0, len(chosen), BATCH):
        batch = chosen[start:start + BATCH]
        overlays += [overlay for overlay, _, _ in compute_cams(
            model, [paths[i] for i in batch],
            [int(predicted[i]) for i in batch], target_layers)]
    fig, axes = image_grid(len(chosen), 'no image to explain')
    for ax, i, overlay in zip(axes, chosen, overlays):
        p = int(predicted[i])
        ax.imshow(overlay)
        ax.set_title(f'{classes[labels[i]]} \u2192 {classes[p]} '
                     f'({100 * float(scores[i, p]):.0f}%)', fontsize=8,
                     color='firebrick' if p != labels[i] else 'darkgreen')
    fig.suptitle(
        f'Grad-CAM ({layer}) of the predicted class: '
        f'{sum(i in chosen for i in wrong)} most confident mistakes (red), '
        f'then the most confident correct per class (green); '
        'title: true \u2192 predicted (score)', fontsize=9)
    fig.tight_layout()
    save_figure(fig, out, force)
    return out, len(wrong), len(right), missing


def image_figure(model, image, target=None, target_layers=None):
    """``(Figure, pred)``: one photo's overlay and map beside each other."""
    layer = ', '.join(n for n, _ in resolve_target_layers(model, target_layers))
    overlay, heatmap, pred = cam_overlay(model, image, target, target_layers)
    classes = _class_names(model)

    def name(label):
        return classes[label] if label < len(classes) else f'class {label}'

    fig = Figure(figsize=(6.4, 3.6))
    axes = fig.subplots(1, 2)
    axes[0].imshow(overlay)
    axes[0].set_title(f'Grad-CAM of {name(pred["target"])} ({layer})',
                      fontsize=8)
    axes[1].imshow(heatmap, cmap='jet', vmin=0, vmax=1)
    axes[1].set_title('map alone (1 = strongest evidence)', fontsize=8)
    for ax in axes:
        ax.axis('off')
    fig.suptitle(f'{osp.basename(str(image))}: predicted '
                 f'{name(pred["label"])} ({100 * pred["score"]:.0f}%)',
                 fontsize=9)
    fig.tight_layout()
    return fig, pred
