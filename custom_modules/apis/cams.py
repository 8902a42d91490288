"""Grad-CAM maps of a model's worst mistakes and surest hits, in one PNG.

    python tools/test.py CONFIG CKPT --out preds.json
    python tools/visualization/vis_cam.py CONFIG CKPT --preds preds.json \\
        --out cams.png [--worst 8] [--per-class 2] [--target-layers NAME]
    python tools/visualization/vis_cam.py CONFIG CKPT --img photo.jpg \\
        --out cam.png [--target CLASS]

The maps come from :mod:`custom_modules.visualization.cam`; this module
picks the images, draws the grid and is the tool's command line.
"""
import argparse
import os.path as osp
import sys

from custom_modules.evaluation.predictions import (
    image_grid,
    load_predictions,
    read_classes,
)
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import check_new, save_figure

BATCH = 8  # images per Grad-CAM pass: bounded memory on large backbones


def select_examples(scores, labels, worst=8, per_class=2):
    """``(mistakes, correct)`` sample indices from (N, C) ``scores``.

    Mistakes: the ``worst`` with the highest score in their (wrong)
    predicted class, most confident first. Correct: per class in label
    order, the ``per_class`` right predictions with the highest score.
    Ties keep the file's order.
    """
    predicted, top = scores.argmax(1), scores.max(1).values

    def surest(indices, limit):
        return sorted(indices, key=lambda i: -float(top[i]))[:limit]

    wrong = surest([i for i in range(len(labels))
                    if predicted[i] != labels[i]], worst)
    right = [i for c in range(scores.shape[1]) for i in surest(
        [i for i in range(len(labels))
         if labels[i] == c and predicted[i] == c], per_class)]
    return wrong, right


def load_model(config, checkpoint, device=None, cfg_options=None,
               allow_partial=False):
    """The checkpoint's classifier, loaded as ``tools/infer.py`` loads it
    (weights_only, fit checked), carrying its config for the pipeline."""
    from .inference import build_inferencer
    return build_inferencer(config, checkpoint, device=device,
                            cfg_options=cfg_options,
                            allow_partial=allow_partial).model


def num_classes(model):
    """Outputs of the classifier (VGG keeps its own in the backbone)."""
    for part in (getattr(model, 'head', None), model.backbone):
        count = getattr(part, 'num_classes', None)
        if count and count > 0:
            return count
    return None


def cams_figure(model, scores, labels, paths, classes, wrong, right,
                target_layers=None):
    """The grid: mistakes (red titles) then correct ones (green), each map
    explaining the predicted class. Returns ``(figure, missing paths)``."""
    from custom_modules.visualization.cam import (
        compute_cams,
        resolve_target_layers,
    )
    layer = ', '.join(n for n, _ in resolve_target_layers(model,
                                                          target_layers))
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
    shown = set(chosen)
    fig.suptitle(
        f'Grad-CAM ({layer}) of the predicted class: '
        f'{sum(i in shown for i in wrong)} most confident mistakes (red), '
        f'then the most confident correct per class (green); '
        'title: true \u2192 predicted (score)', fontsize=9)
    fig.tight_layout()
    return fig, missing


def draw_cams(model, preds, out, worst=8, per_class=2, target_layers=None,
              classes_file=None, force=False):
    """Write the grid for a predictions file; return
    ``(out, mistakes shown, correct shown, missing image paths)``."""
    import matplotlib.pyplot as plt
    scores, labels, paths = load_predictions(preds)
    expected = num_classes(model)
    if expected and expected != scores.shape[1]:
        raise UserInputError(
            f'{preds} has {scores.shape[1]} scores per image, the model '
            f'{expected} classes: the predictions come from another model.')
    from custom_modules.visualization.cam import model_classes
    classes = (read_classes(classes_file, scores.shape[1]) if classes_file
               else model_classes(model))
    if len(classes) != scores.shape[1]:
        classes = [str(i) for i in range(scores.shape[1])]
    wrong, right = select_examples(scores, labels, worst, per_class)
    fig, missing = cams_figure(model, scores, labels, paths, classes, wrong,
                               right, target_layers)
    try:
        save_figure(fig, out, force)
    finally:
        plt.close(fig)
    return out, len(wrong), len(right), missing


def image_figure(model, image, target=None, target_layers=None):
    """The model's view of one photo with its Grad-CAM overlay, and the
    map alone."""
    import matplotlib.pyplot as plt

    from custom_modules.visualization.cam import (
        compute_cams,
        model_classes,
        resolve_target_layers,
    )
    layer = ', '.join(n for n, _ in resolve_target_layers(model,
                                                          target_layers))
    [(overlay, heatmap, pred)] = compute_cams(
        model, [image], None if target is None else [target], target_layers)
    classes = model_classes(model)

    def name(label):
        return classes[label] if label < len(classes) else f'class {label}'

    fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.6))
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


def parse_args(argv):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='Grad-CAM maps of the worst mistakes and the most '
        'confident correct predictions (--preds), or of one photo (--img), '
        'drawn over the images as the model sees them.')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--preds', help='.json from tools/test.py --out')
    source.add_argument('--img', help='one photo to explain')
    parser.add_argument('--out', required=True, help='the PNG to write')
    parser.add_argument('--worst', type=int, default=8,
                        help='mistakes to show, most confident first')
    parser.add_argument('--per-class', type=int, default=2,
                        help='correct predictions to show per class')
    parser.add_argument('--target', help='with --img: the class (index or '
                        'name) to explain (default: the predicted one)')
    parser.add_argument('--target-layers', nargs='+',
                        help='module names to take the map from, e.g. '
                        'backbone.layer4.2 (default: chosen per backbone)')
    parser.add_argument('--classes', help='classes.txt, if the checkpoint '
                        'has no class names')
    parser.add_argument('--device', help='cpu, cuda, ... (default: cuda '
                        'when available)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='the overrides the checkpoint was trained with')
    parser.add_argument('--force', action='store_true',
                        help='replace an existing --out file')
    args = parser.parse_args(argv)
    if not args.out.lower().endswith('.png'):
        raise UserInputError(f'--out {args.out}: name a .png file.')
    if args.worst < 0 or args.per_class < 0 or not (args.worst
                                                    or args.per_class):
        raise UserInputError(
            f'--worst {args.worst} --per-class {args.per_class}: counts of '
            'images, at least one of them above 0.')
    if args.target is not None and not args.img:
        raise UserInputError('--target goes with --img (with --preds each '
                             'map explains the predicted class).')
    if args.img and not osp.isfile(args.img):
        raise UserInputError(f'--img {args.img}: no such file.')
    check_new(args.out, args.force)
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.preds:
        load_predictions(args.preds)  # a bad file fails before the model
    model = load_model(args.config, args.checkpoint, args.device,
                       args.cfg_options)
    if args.classes:
        model._dataset_meta = dict(
            getattr(model, '_dataset_meta', None) or {},
            classes=read_classes(args.classes, num_classes(model)))
    if args.img:
        import matplotlib.pyplot as plt
        fig, pred = image_figure(model, args.img, args.target,
                                 args.target_layers)
        try:
            save_figure(fig, args.out, args.force)
        finally:
            plt.close(fig)
        print(f'predicted {pred["class"] or pred["label"]} '
              f'({100 * pred["score"]:.1f}%); map of class {pred["target"]}')
    else:
        _, wrong, right, missing = draw_cams(
            model, args.preds, args.out, args.worst, args.per_class,
            args.target_layers, force=args.force)
        for path in missing:
            print(f'warning: {path} not found; left out', file=sys.stderr)
        print(f'{wrong} mistakes and {right} correct predictions selected')
    print(f'wrote {args.out}')
    return 0


def run_cams(config, checkpoint, preds, out, options=(), classes_file=None,
             worst=8, per_class=2):
    """The grid's step: ``cams.png`` for one run (``options`` as the run's
    ``--cfg-options`` strings), replacing an older one."""
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    cfg_options = parser.parse_args(
        ['--cfg-options', *options] if options else []).cfg_options
    model = load_model(config, checkpoint, cfg_options=cfg_options)
    return draw_cams(model, preds, out, worst, per_class,
                     classes_file=classes_file, force=True)[0]
