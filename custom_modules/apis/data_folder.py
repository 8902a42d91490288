"""``--data-folder PATH``: a class-per-folder tree straight in, checked as
``make_annotations.py`` checks it: ``tools/train.py`` splits it into
``<work_dir>/data/``; ``tools/test.py`` evaluates every photo of it.
"""
import os.path as osp

import numpy as np
from mmpretrain.evaluation import ConfusionMatrix

from custom_modules.datasets.annotations import format_report, make_annotations
from custom_modules.evaluation.predictions import (
    analyze,
    load_predictions,
    rows_to_markdown,
)
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import read_classes

from .config import set_data_root
from .model import model_classes


def split_data_folder(cfg, folder, split='8:1:1', seed=0,
                      on_problem='exclude'):
    """Check ``folder``, write its split to ``<work_dir>/data/`` and point
    every dataloader there.

    Args:
        cfg (Config): The config to train; its ``work_dir`` is set.
        folder (str): One sub-folder of images per class.
        split (str): ``train:val[:test]`` ratios, as make_annotations.py's.
        seed (int): The split's shuffle seed.
        on_problem (str): ``'exclude'`` bad files (listed), or ``'stop'``.

    Returns:
        Report: What the scan found and wrote.
    """
    if not osp.isdir(folder):
        raise UserInputError(f'--data-folder {folder}: no such folder.')
    out = osp.join(cfg.work_dir, 'data')
    report = make_annotations(folder.rstrip('/\\'), out, split=split,
                              seed=seed, on_problem=on_problem, force=True,
                              progress=False)
    print(format_report(report, on_problem))
    set_data_root(cfg, out)
    return report


def use_data_folder(cfg, args):
    """Check ``args.data_folder``, write its annotations (all in
    test.txt) and point the test dataloader at them."""
    folder = args.data_folder.rstrip('/\\')
    classes = model_classes(checkpoint=args.checkpoint, cfg=cfg)
    if not classes:
        raise UserInputError(
            f'{args.checkpoint} stores no class names and the config\'s '
            'classes.txt does not exist: pass the training data with '
            '--data-root DIR.')
    out = osp.join(cfg.work_dir, 'data_folder', osp.basename(folder))
    report = make_annotations(folder, out, split='0:0:1',
                              on_problem=args.on_problem, force=True,
                              progress=False, expected_classes=classes)
    print(format_report(report, args.on_problem))
    cfg.test_dataloader.dataset.update(data_root=out, ann_file='test.txt',
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
    """Print and write per-class metrics and the confusion matrix."""
    classes_file = osp.join(cfg.test_dataloader.dataset.data_root,
                            'classes.txt')
    outputs, rows, accuracy = analyze(args.out, classes_file,
                                      args.analysis_dir, force=True)
    scores, labels, _ = load_predictions(args.out)
    classes = read_classes(classes_file)
    print(rows_to_markdown(rows, accuracy))
    print(confusion_text(ConfusionMatrix.calculate(scores, labels), classes))
    print('wrote ' + ', '.join(outputs.values()))
    return outputs
