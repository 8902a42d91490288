"""The whole workflow offline in a few minutes (``tools/demo.py``)."""
import contextlib
import io
import itertools
import os
import os.path as osp
import re
import shutil
import time

from custom_modules.datasets.annotations import format_report, make_annotations
from custom_modules.datasets.synthetic_flowers import make_dataset
from custom_modules.evaluation.predictions import analyze
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import read_classes
from custom_modules.utils.paths import ROOT

from . import testing, training
from .calibrate import calibrate
from .cams import run_cams
from .config import load_config, set_data_root
from .curves import plot_curves
from .lr_curve import draw_lr_curve
from .preflight import num_classes_keys
from .robustness import SHORT_SEVERITIES, SHORT_SHIFTS, robustness
from .run_logs import best_checkpoint, summarize_run
from .run_report import write_run_report

CONFIG = osp.join(ROOT, 'configs', 'demo', 'resnet101_freeze3_fixed.py')
PHOTOS_CONFIG = osp.join(ROOT, 'configs', 'demo', 'photos',
                         'efficientnet_lite0_fast.py')


def demo_folder(out, config, resume=False, force=False):
    """Check ``out`` for a new demo, ``resume`` or ``force`` (which removes
    only a demo's folder)."""
    if not osp.exists(out) or (osp.isdir(out) and not os.listdir(out)):
        return
    if not osp.isdir(out):
        raise UserInputError(f'--out {out} is a file; choose a folder.')
    name = osp.splitext(osp.basename(config))[0]
    ours = osp.isdir(osp.join(out, 'flower_dataset')) or osp.isdir(
        osp.join(out, 'synthetic_flowers')) or osp.isdir(osp.join(out, name))
    if force and ours:
        shutil.rmtree(out)
    elif force:
        raise UserInputError(f'--force: {out} does not look like a demo '
                             'folder (no flower_dataset/); not removed.')
    elif not resume:
        raise UserInputError(f'{out} exists; continue that demo with '
                             '--resume, start over with --force, or choose '
                             'another --out.')


def last_epoch(work_dir):
    """The epoch of the run's committed checkpoint (0: none)."""
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(marker):
        return 0
    with open(marker, encoding='utf-8') as f:
        found = re.search(r'epoch_(\d+)\.pth$', f.read().strip())
    return int(found[1]) if found else 0


def run_demo(out, per_class=100, epochs=None, photos=None, resume=False,
             force=False):
    """Run every step into the new folder ``out``; print a summary.

    Args:
        out (str): A new folder for everything.
        per_class (int): Synthetic images per class (without ``photos``).
        epochs (int, optional): Training epochs (default: the config's).
        photos (str, optional): Class-per-folder photos to fine-tune
            EfficientNet-Lite0 on, instead of synthetic ones.
        resume (bool): Continue an interrupted demo in ``out``, skipping
            finished steps and resuming training.
        force (bool): Remove an earlier demo's ``out`` and start over.

    Returns:
        dict: The test metrics.
    """
    config = PHOTOS_CONFIG if photos else CONFIG
    demo_folder(out, config, resume, force)
    if photos and not osp.isdir(photos):
        raise UserInputError(f'--photos {photos}: no such folder; pass the '
                             'folder that holds one sub-folder per class.')
    start = time.time()
    name = osp.splitext(osp.basename(config))[0]
    data_root = osp.join(out, 'flower_dataset')
    work_dir = osp.join(out, name)
    options = {'train_cfg.max_epochs': epochs} if epochs else None
    cfg = load_config(config, options)
    steps = itertools.count(1)

    def step(text):
        print(f'\n[{next(steps)}/{4 if photos else 5}] {text}', flush=True)

    annotated = all(osp.isfile(osp.join(data_root, f)) for f in (
        'classes.txt', 'train.txt', 'val.txt', 'test.txt'))
    if photos:
        images, policy = photos, 'exclude'
    else:
        images, policy = osp.join(out, 'synthetic_flowers'), 'stop'
        step(f'drawing {per_class} synthetic images per class -> {images}')
        if annotated:
            print('  done before: skipped (--resume)')
        else:  # an interrupted drawing is drawn again
            shutil.rmtree(images, ignore_errors=True)
            make_dataset(images, per_class=per_class, size=96, seed=0)

    step(f'checking images and writing annotations -> {data_root}')
    if annotated:
        print('  done before: skipped (--resume)')
    else:
        # 8:1:1: val picks the best epoch, test (untouched) gives the number.
        report = make_annotations(images, data_root, split='8:1:1',
                                  on_problem=policy, progress=False,
                                  force=True)
        print(format_report(report, policy, list_outputs=False))

    # the model predicts the folder's classes, however many (configs say 5)
    count = len(read_classes(osp.join(data_root, 'classes.txt')))
    options = {**(options or {}), **dict.fromkeys(num_classes_keys(cfg), count)}
    weights = ('from its ImageNet weights' if photos else
               'from scratch, offline')
    step(f'training {osp.relpath(config, ROOT)} for '
         f'{cfg.train_cfg.max_epochs} epochs ({weights}) -> {work_dir}')
    common = dict(data_root=data_root, cfg_options=options)
    done = last_epoch(work_dir)
    if done >= cfg.train_cfg.max_epochs:
        print(f'  done before ({done} epochs): skipped (--resume)')
    else:
        if done:
            print(f'  resuming after epoch {done}')
        training.train(config, from_scratch=not photos, work_dir=work_dir,
                       resume='auto' if done else None, **common)
    checkpoint = best_checkpoint(work_dir)
    best = summarize_run(work_dir)

    step(f'calibrating {osp.basename(checkpoint)} on val, then testing it '
         'on the untouched test split')
    calibration_cfg = load_config(config, options)
    set_data_root(calibration_cfg, data_root)
    calibration_cfg.work_dir = osp.join(out, 'calibration')
    calibrate(calibration_cfg, checkpoint, ood=False, force=resume)
    predictions = osp.join(out, 'test_predictions.json')
    metrics = testing.test(config, checkpoint, work_dir=osp.join(out, 'test'),
                           out=predictions, force=resume, **common)

    step('drawing the learning-rate and training curves, the confusion '
         'matrix, the mistakes and Grad-CAMs; writing the one-page report')
    set_data_root(cfg, data_root)
    lr_png = draw_lr_curve(cfg, osp.join(out, 'lr_curve.png'), name,
                           force=resume)
    curves_png = plot_curves(work_dir, force=resume)
    classes = osp.join(data_root, 'classes.txt')
    analysis, _, _ = analyze(predictions, classes, osp.join(out, 'analysis'),
                             force=resume)
    analysis['cams.png'] = run_cams(config, checkpoint, predictions,
                                    osp.join(out, 'analysis', 'cams.png'),
                                    [f'{k}={v}' for k, v in options.items()],
                                    classes_file=classes, worst=4, per_class=1)
    # seconds: 4 shifts at severity 3 for the report; robustness.py runs all
    with contextlib.redirect_stdout(io.StringIO()):  # its table: one line
        shifts = robustness(config, checkpoint, shifts=SHORT_SHIFTS,
                            severities=SHORT_SEVERITIES, fit_images=0, force=resume,
                            **common)
    print(f'under {", ".join(SHORT_SHIFTS)} (severity 3): '
          f'{shifts["mean_corrupted_accuracy"]:.1f} % mean accuracy, clean '
          f'{shifts["clean_accuracy"]:.1f} %')
    report, _ = write_run_report(work_dir, osp.join(out, 'report.html'),
                                 predictions,
                                 analysis=osp.join(out, 'analysis'),
                                 force=resume)

    plots = [lr_png, curves_png, analysis['confusion_matrix.png'],
             analysis['misclassified.png'], analysis['cams.png']]
    print(f'\nDemo finished in {time.time() - start:.0f} s.'
          f'\n  val accuracy (top-1): {best["val_acc"]:.2f} % (epoch '
          f'{best["best_epoch"]}, chosen on val)'
          f'\n  test accuracy:        {metrics["accuracy/top1"]:.2f} % '
          '(untouched split)'
          f'\n  checkpoint:           {checkpoint}'
          f'\n  logs:                 {work_dir}/<timestamp>/'
          '\n  plots:                ' + f'\n{" " * 24}'.join(plots) +
          f'\n  per-class metrics:    {analysis["per_class.md"]}'
          f'\n  report (one page):    {report}')
    return metrics
