"""``tools/test.py --data-folder PATH``: evaluate any labelled
class-per-folder tree in one command.

The folder is checked as ``make_annotations.py`` checks training data
(corrupt files, non-images, duplicates across classes) and its class folders
must be exactly the model's classes. Annotation files go to
``<work_dir>/data_folder/<name>/``, never into the user's folder.
"""
import os.path as osp

import numpy as np

from custom_modules.engine.checkpoint_loading import load_checkpoint_file
from custom_modules.utils.errors import UserInputError

from .preflight import under_root


def model_classes(cfg, checkpoint):
    """Class names in label order: the checkpoint's, else the config's
    classes file."""
    meta = load_checkpoint_file(checkpoint).get('meta') or {}
    classes = (meta.get('dataset_meta') or {}).get('classes')
    if classes:
        return list(classes)
    dataset = cfg.train_dataloader.dataset if cfg.get('train_dataloader') \
        else cfg.val_dataloader.dataset
    path = under_root(dataset.get('data_root', '') or '',
                      dataset.get('classes') or 'classes.txt')
    if not osp.isfile(path):
        raise UserInputError(
            f'{checkpoint} stores no class names and {path} does not exist: '
            'pass the training data with --data-root DIR.')
    with open(path, encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip()]


def use_data_folder(cfg, args):
    """Check ``args.data_folder``, write its annotations (all in
    test.txt) and point the test dataloader at them."""
    from custom_modules.datasets.annotations import format_report, make_annotations
    if not osp.isfile(args.checkpoint):
        raise UserInputError(f'checkpoint {args.checkpoint} does not exist.')
    folder = args.data_folder.rstrip('/\\')
    classes = model_classes(cfg, args.checkpoint)
    out = osp.join(cfg.work_dir, 'data_folder', osp.basename(folder))
    report = make_annotations(folder, out, split='0:0:1',
                              on_problem=args.on_problem, force=True,
                              progress=False, expected_classes=classes)
    print(format_report(report, args.on_problem))
    dataset = cfg.test_dataloader.dataset
    dataset.update(data_root=out, ann_file='test.txt',
                   classes='classes.txt')
    args.tested = osp.join(out, 'test.txt')
    if not args.out:
        args.out, args.force = osp.join(out, 'predictions.json'), True
    args.analysis_dir = osp.join(out, 'analysis')


def confusion_text(matrix, classes):
    """The confusion matrix as text: rows true, columns predicted."""
    width = max(6, *(len(c) for c in classes))
    lines = ['confusion matrix (rows: true class, columns: predicted)',
             ' ' * width + ''.join(f' {c[:width]:>{width}}' for c in classes)]
    for name, row in zip(classes, np.asarray(matrix)):
        lines.append(f'{name:<{width}}' + ''.join(
            f' {int(v):>{width}}' for v in row))
    return '\n'.join(lines)


def report_data_folder(cfg, args):
    """Per-class precision / recall / F1 and the confusion matrix, printed
    and written next to the folder's annotations."""
    from mmpretrain.evaluation import ConfusionMatrix

    from custom_modules.evaluation.predictions import (
        analyze,
        load_predictions,
        rows_to_markdown,
    )
    classes_file = osp.join(cfg.test_dataloader.dataset.data_root,
                            'classes.txt')
    outputs, rows, accuracy = analyze(args.out, classes_file,
                                      args.analysis_dir, force=True)
    scores, labels, _ = load_predictions(args.out)
    with open(classes_file, encoding='utf-8') as f:
        classes = [line.strip() for line in f if line.strip()]
    print(rows_to_markdown(rows, accuracy))
    print(confusion_text(ConfusionMatrix.calculate(scores, labels), classes))
    print('wrote ' + ', '.join(outputs.values()))
    return outputs
