"""The whole workflow offline in a few minutes, on generated flower images.

1. draw a synthetic 5-class flower set (class-per-folder, like real data);
2. check it and write annotation files;
3. train ``configs/demo/resnet101_freeze3_fixed.py`` (64 px, the short
   schedule, random init: no download);
4. test the best checkpoint;
5. draw the learning-rate and training curves and the confusion matrix.
"""
import os.path as osp
import time

from . import testing, training
from .analysis.curves import plot_curves
from .analysis.lr_curve import draw_lr_curve
from .analysis.predictions import analyze
from .annotations import format_report, make_annotations
from .config import ROOT, load_config, set_data_root
from .errors import UserInputError
from .run_logs import best_checkpoint
from .synthetic_flowers import make_dataset

CONFIG = osp.join(ROOT, 'configs', 'demo', 'resnet101_freeze3_fixed.py')


def step(number, text):
    print(f'\n[{number}/5] {text}', flush=True)


def run_demo(out, per_class=100, epochs=None):
    """Run the five steps into the new folder ``out``; print a summary."""
    if osp.exists(out):
        raise UserInputError(f'{out} exists; choose another --out.')
    start = time.time()
    images = osp.join(out, 'synthetic_flowers')
    data_root = osp.join(out, 'flower_dataset')
    work_dir = osp.join(out, 'resnet101_freeze3_fixed')
    options = [f'train_cfg.max_epochs={epochs}'] if epochs else []
    cfg = load_config(CONFIG, {'train_cfg.max_epochs': epochs} if epochs
                      else None)

    step(1, f'drawing {per_class} synthetic images per class -> {images}')
    make_dataset(images, per_class=per_class, size=96, seed=0)

    step(2, f'checking images and writing annotations -> {data_root}')
    report = make_annotations(images, data_root, progress=False)
    print(format_report(report, 'stop'))

    step(3, f'training {osp.relpath(CONFIG, ROOT)} for '
         f'{cfg.train_cfg.max_epochs} epochs (from scratch, offline) -> '
         f'{work_dir}')
    common = ['--data-root', data_root,
              *(['--cfg-options', *options] if options else [])]
    training.main([CONFIG, '--from-scratch', '--work-dir', work_dir,
                   *common])
    checkpoint = best_checkpoint(work_dir)

    step(4, f'testing {osp.basename(checkpoint)}')
    predictions = osp.join(out, 'val_predictions.pkl')
    metrics = testing.main([CONFIG, checkpoint, '--work-dir',
                            osp.join(out, 'test'), '--out', predictions,
                            *common])

    step(5, 'drawing the learning-rate and training curves, the confusion '
         'matrix and the mistakes')
    set_data_root(cfg, data_root)
    lr_png = draw_lr_curve(cfg, osp.join(out, 'lr_curve.png'),
                           osp.basename(CONFIG)[:-3])
    curves_png = plot_curves(work_dir)
    analysis, _, _ = analyze(predictions, osp.join(data_root, 'classes.txt'),
                             osp.join(out, 'analysis'))

    print(f'\nDemo finished in {time.time() - start:.0f} s.'
          f'\n  val accuracy (top-1): {metrics["accuracy/top1"]:.2f} %'
          f'\n  checkpoint:           {checkpoint}'
          f'\n  logs:                 {work_dir}/<timestamp>/'
          f'\n  plots:                {lr_png}\n                        '
          f'{curves_png}\n                        '
          f'{analysis["confusion_matrix.png"]}\n                        '
          f'{analysis["misclassified.png"]}'
          f'\n  per-class metrics:    {analysis["per_class.md"]}')
    return metrics
