"""Grad-CAM heat maps for mmpretrain classifiers, with the ``grad-cam``
library (``pytorch_grad_cam``) that mmpretrain's ``vis_cam`` tool uses.

A map explains one class of one image *as the model sees it*: the photo goes
through the config's test pipeline (resize, crop) and the model's data
preprocessor (normalisation, BGR to RGB), and the map is drawn over that
resized, cropped view, so it lines up with what the network looked at.

Only torch, mmengine/mmpretrain and the library are used: the caller builds
the model once (``mmpretrain.apis.get_model`` or
:func:`custom_modules.apis.cams.load_model`, both keep the config
on the model) and may call :func:`cam_overlay` for each request.
"""
import difflib
import os
import threading

import numpy as np

from custom_modules.utils.errors import UserInputError

#: Held while a map is computed. Grad-CAM hooks the target layers of the
#: shared model, so a second forward pass on that model from another thread
#: (a map, or plain classification) would record its activations into this
#: one's. A server that also classifies with the model in other threads
#: holds this lock around those calls too.
CAM_LOCK = threading.RLock()


def _max_out_index(backbone, default):
    indices = getattr(backbone, 'out_indices', None) or (default, )
    return max(indices)


def _resnet_layer(backbone):
    """The last block of the last stage the neck reads."""
    stage = backbone.res_layers[_max_out_index(backbone, -1)]
    return f'backbone.{stage}.{len(getattr(backbone, stage)) - 1}'


def _vgg_layer(backbone):
    """The last conv (+ReLU, one ``ConvModule``) of the features used:
    all stages when VGG has its own classifier, else up to ``out_indices``."""
    from mmcv.cnn import ConvModule
    stages = backbone.range_sub_modules
    if backbone.num_classes > 0:
        end = stages[-1][1]
    else:
        end = stages[_max_out_index(backbone, len(stages) - 1)][1]
    convs = [i for i, m in enumerate(backbone.features[:end])
             if isinstance(m, ConvModule)]
    return f'backbone.features.{convs[-1]}'


def _efficientnet_layer(backbone):
    """The last conv stage of ``layers`` the neck reads (Lite0: the 1x1
    head conv, 1280 channels)."""
    return f'backbone.layers.{_max_out_index(backbone, len(backbone.layers) - 1)}'


def default_target_layer(model):
    """Name of the layer whose feature map Grad-CAM weighs, per backbone.

    mmpretrain's ``vis_cam`` takes the last norm layer; for these CNNs the
    output of the last block (after its ReLU) is the feature map the
    classifier pools, which is the classic Grad-CAM choice.
    """
    from mmpretrain.models.backbones import VGG, EfficientNet, ResNet
    backbone = getattr(model, 'backbone', None)
    for kind, choose in ((ResNet, _resnet_layer), (VGG, _vgg_layer),
                         (EfficientNet, _efficientnet_layer)):
        if isinstance(backbone, kind):
            return choose(backbone)
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
            hint = (f' Did you mean: {", ".join(close)}?' if close else '')
            raise UserInputError(
                f'--target-layers {name}: the model has no module of that '
                f'name.{hint} Names are dotted paths from the model, e.g. '
                f'{_example_layer(model)}.')
    return [(name, modules[name]) for name in names]


def _example_layer(model):
    """A layer name to show in a message: the default, or a ResNet's."""
    try:
        return default_target_layer(model)
    except UserInputError:
        return 'backbone.layer4.2'


def view_pipeline(model):
    """The config's test pipeline without its file loading (images are
    decoded here, so arrays work as well as paths)."""
    from mmcv.transforms import Compose
    from mmpretrain.datasets import remove_transform
    from mmpretrain.registry import TRANSFORMS
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
        import mmcv
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
            rgb = np.repeat(rgb[..., None], 3, axis=2)
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] not in (3,
                                                                           4):
            raise UserInputError(
                f'image array of shape {rgb.shape} and dtype {rgb.dtype}: '
                'expected uint8 RGB (H, W, 3), RGBA or gray (H, W).')
        img = np.ascontiguousarray(rgb[..., 2::-1])  # RGB(A) -> BGR
    return dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2])


def model_classes(model):
    """Class names stored with the model (from its checkpoint's meta), or
    ``[]``."""
    meta = (getattr(model, '_dataset_meta', None)
            or getattr(model, 'dataset_meta', None) or {})
    return list(meta.get('classes') or [])


def _predicted(output):
    """Grad-CAM target: the score of the class the model predicts."""
    return output[..., output.argmax(-1)]


def _class_targets(model, targets, count):
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    if targets is None:
        return [_predicted] * count, [None] * count
    classes = model_classes(model)
    labels = []
    for target in targets:
        if isinstance(target, str) and not target.isdigit():
            if target not in classes:
                raise UserInputError(
                    f'target class {target!r} is not one of the model\'s '
                    f'classes ({", ".join(classes) or "no names stored"}).')
            target = classes.index(target)
        if target is not None and int(target) < 0:
            raise UserInputError(f'target class {target}: a class index is '
                                 '0 or more.')
        labels.append(None if target is None else int(target))
    return [_predicted if t is None else ClassifierOutputTarget(t)
            for t in labels], labels


def compute_cams(model, images, targets=None, target_layers=None,
                 image_weight=0.5):
    """Grad-CAM for a batch; ``[(overlay, heatmap, pred)]`` per image.

    Args:
        model: an mmpretrain classifier carrying its config (``_config``).
        images: paths, or uint8 RGB arrays (H, W, 3).
        targets: per image, the class (index or name) to explain, or None
            for the predicted class; None for all predicted.
        target_layers: module names; default :func:`default_target_layer`.

    ``overlay`` is uint8 RGB at the model's input size (the photo after the
    test pipeline's resize and crop) with the map blended in; ``heatmap``
    is float32 (H, W) in [0, 1]; ``pred`` is a dict with the predicted
    ``label``, ``class`` and ``score`` (softmax) and the ``target`` class
    the map explains.

    Thread safety: runs under :data:`CAM_LOCK` (see there), leaves the
    model in eval mode and frees the parameter gradients it made.
    """
    import torch
    from mmengine.dataset import pseudo_collate
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
    cam_targets, labels = _class_targets(model, targets, len(images))
    with CAM_LOCK, torch.enable_grad():
        # A list, not a stack: the preprocessor pads views of unequal size.
        data = model.data_preprocessor(pseudo_collate(samples), False)
        # Gradients reach the target layer even when every layer up to it
        # is frozen.
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
    classes = model_classes(model)
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
    """One image's Grad-CAM: ``(overlay RGB uint8, heatmap float HxW, pred)``.

    ``target`` is the class index or name to explain (default: the
    predicted class). The model is built once by the caller; see
    :func:`compute_cams` for the outputs and thread safety.
    """
    return compute_cams(model, [image_path_or_rgb],
                        None if target is None else [target],
                        target_layers)[0]
