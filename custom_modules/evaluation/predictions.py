"""Prediction files (``tools/test.py --out``) and what
``tools/analysis/analyze_predictions.py`` writes from one: ``per_class.csv``
and ``.md``, ``confusion_matrix.png`` and ``misclassified.png``.
"""
import csv
import json
import os.path as osp

import matplotlib.pyplot as plt  # mmpretrain's ConfusionMatrix.plot draws with it
import torch
from matplotlib.figure import Figure
from mmpretrain.evaluation import ConfusionMatrix, SingleLabelMetric
from PIL import Image

from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import (
    atomic_write,
    check_writable,
    csv_safe_row,
    read_classes,
    save_figure,
)

from .calibration import made_from


def load_predictions(path):
    """Scores (N, C), true labels (N,) and image paths from ``--out``
    (JSON only: a pickle could run code, so a ``.pkl`` is refused)."""
    write = f'write it with tools/test.py CONFIG CKPT --out {path}'
    if path.endswith(('.pkl', '.pickle')):
        raise UserInputError(
            f'{path}: predictions in pickle files are not read (loading a '
            'pickle can run code, and this one may not be yours). Write '
            'them again as JSON: tools/test.py CONFIG CKPT --out preds.json')
    if not osp.isfile(path):
        raise UserInputError(f'{path} does not exist; {write}')
    try:
        with open(path, encoding='utf-8') as f:
            samples = json.load(f).get('samples')
        scores = torch.tensor([s['pred_score'] for s in samples])
        labels = torch.tensor([int(s['gt_label']) for s in samples])
        paths = [str(s.get('img_path', '')) for s in samples]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise UserInputError(
            f'{path} is not a predictions file ({type(exc).__name__}: '
            f'{exc}); {write}') from None
    if not samples or scores.ndim != 2:
        raise UserInputError(f'{path} holds no predictions with scores.')
    return scores, labels, paths


def predictions_match(path, checkpoint):
    """Whether the predictions file was made from ``checkpoint`` (or does
    not say); a mismatch is said on stderr."""
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except (OSError, ValueError):
        return True  # load_predictions names what is wrong with it
    return made_from(data, checkpoint, path)


def per_class_rows(scores, labels, classes):
    *metrics, support = SingleLabelMetric.calculate(
        scores.argmax(1), labels, average=None, num_classes=scores.shape[1])
    # the macro average is the mean over classes (as mmpretrain's)
    columns = [[*m.tolist(), m.mean().item()] for m in metrics]
    return [dict(cls=c, precision=p, recall=r, f1=f, support=int(n))
            for c, p, r, f, n in zip([*classes, 'macro avg'], *columns,
                                     [*support.tolist(), len(labels)])]


def rows_to_markdown(rows, accuracy):
    lines = [f'Top-1 accuracy: {accuracy:.2f} %', '',
             '| class | precision | recall | F1 | support |',
             '|---|---:|---:|---:|---:|']
    lines += [f'| {r["cls"]} | {r["precision"]:.2f} | {r["recall"]:.2f} | '
              f'{r["f1"]:.2f} | {r["support"]} |' for r in rows]
    return '\n'.join(lines) + '\n'


def image_grid(count, empty_text):
    """A figure of ``count`` axes for pictures, six a row, no ticks;
    ``empty_text`` in the first when there is nothing to show. Returns
    ``(figure, flat axes)``."""
    cols = min(6, max(1, count))
    rows = max(1, -(-count // cols))
    fig = Figure(figsize=(2.4 * cols, 2.7 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat:
        ax.axis('off')
    if not count:
        axes[0, 0].text(0.5, 0.5, empty_text, ha='center', va='center')
    return fig, axes.flat


def select_examples(scores, labels, worst=8, per_class=2):
    """``(mistakes, correct)`` indices of (N, C) ``scores``: the ``worst``
    surest mistakes, then the ``per_class`` surest right ones per class."""
    predicted, top = scores.argmax(1), scores.max(1).values

    def surest(indices, limit):
        return sorted(indices, key=lambda i: -float(top[i]))[:limit]

    wrong = surest([i for i in range(len(labels))
                    if predicted[i] != labels[i]], worst)
    right = [i for c in range(scores.shape[1]) for i in surest(
        [i for i in range(len(labels))
         if labels[i] == c and predicted[i] == c], per_class)]
    return wrong, right


def misclassified_figure(scores, labels, paths, classes, limit=24):
    predicted = scores.argmax(1)
    wrong, _ = select_examples(scores, labels, limit, 0)
    fig, axes = image_grid(len(wrong), 'no misclassified images')
    for ax, i in zip(axes, wrong):
        if osp.isfile(paths[i]):
            with Image.open(paths[i]) as img:
                ax.imshow(img.convert('RGB'))
        ax.set_title(f'true: {classes[labels[i]]}\npred: '
                     f'{classes[predicted[i]]} '
                     f'({100 * float(scores[i, predicted[i]]):.0f}%)',
                     fontsize=8, color='firebrick')
    fig.suptitle(f'{len(wrong)} most confident mistakes')
    fig.tight_layout()
    return fig


def analyze(preds, classes_file=None, out_dir='.', force=False):
    """Write the four outputs; return ``{name: path}``."""
    check_writable(out_dir, '--out-dir', folder=True)
    scores, labels, paths = load_predictions(preds)
    classes = (read_classes(classes_file, scores.shape[1]) if classes_file
               else [str(i) for i in range(scores.shape[1])])
    accuracy = 100 * float((scores.argmax(1) == labels).float().mean())
    rows = per_class_rows(scores, labels, classes)
    out = {name: osp.join(out_dir, name) for name in (
        'per_class.csv', 'per_class.md', 'confusion_matrix.png',
        'misclassified.png')}

    def write_csv(f):
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(map(csv_safe_row, rows))

    atomic_write(out['per_class.csv'], write_csv, force)
    atomic_write(out['per_class.md'],
                 lambda f: f.write(rows_to_markdown(rows, accuracy)), force)
    matrix = ConfusionMatrix.calculate(scores, labels)
    fig = ConfusionMatrix.plot(matrix, include_values=True, classes=classes,
                               show=False)
    save_figure(fig, out['confusion_matrix.png'], force)
    plt.close(fig)
    save_figure(misclassified_figure(scores, labels, paths, classes),
                out['misclassified.png'], force)
    return out, rows, accuracy
