"""The whole workflow offline in a few minutes, on generated flower images.

    python tools/demo.py

1. draws a synthetic 5-class flower set (class-per-folder, like real data);
2. checks it and writes annotation files with tools/dataset/make_annotations;
3. trains configs/resnet101_freeze3_fixed.py with demo-size overrides
   (64 px images, 8 epochs, random init: no download);
4. tests the best checkpoint with tools/test.py;
5. draws the learning-rate and training curves and the confusion matrix.

Everything lands in a new folder, work_dirs/demo/<timestamp>/.
"""
import argparse
import os.path as osp
import sys
import time

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(HERE)
sys.path[:0] = [ROOT, HERE, osp.join(HERE, 'dataset'),
                osp.join(HERE, 'analysis')]

import analyze_predictions  # noqa: E402
import plot_curves  # noqa: E402
import plot_lr  # noqa: E402
import test as test_tool  # noqa: E402
import train as train_tool  # noqa: E402
from make_annotations import format_report, make_annotations  # noqa: E402
from make_synthetic_flowers import make_dataset  # noqa: E402

from custom_modules.run_logs import best_checkpoint  # noqa: E402
from custom_modules.setup_config import image_size_options  # noqa: E402

CONFIG = osp.join(ROOT, 'configs', 'resnet101_freeze3_fixed.py')


def demo_options(epochs, size):
    """Shrink the report's 40-epoch schedule to ``epochs`` epochs."""
    return [
        f'train_cfg.max_epochs={epochs}',
        f'param_scheduler.warmup_end={min(1, epochs)}',
        f'param_scheduler.decay_end={min(3, epochs)}',
        'param_scheduler.step_size=1',
        # From random weights, a larger lr than fine-tuning's 1e-4.
        'optim_wrapper.optimizer.lr=1e-3',
        'train_dataloader.num_workers=2', 'val_dataloader.num_workers=2',
        'test_dataloader.num_workers=2',
        *image_size_options(size),
    ]


def step(number, text):
    print(f'\n[{number}/5] {text}', flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', help='output folder (default: '
                        'work_dirs/demo/<timestamp>)')
    parser.add_argument('--per-class', type=int, default=100)
    parser.add_argument('--epochs', type=int, default=8)
    parser.add_argument('--size', type=int, default=64)
    args = parser.parse_args(argv)
    out = args.out or osp.join(ROOT, 'work_dirs', 'demo',
                               time.strftime('%Y%m%d_%H%M%S'))
    if osp.exists(out):
        print(f'error: {out} exists; choose another --out.', file=sys.stderr)
        return 2
    start = time.time()
    images, data_root = osp.join(out, 'synthetic_flowers'), osp.join(
        out, 'flower_dataset')
    work_dir = osp.join(out, 'resnet101_freeze3_fixed')

    step(1, f'drawing {args.per_class} synthetic images per class -> {images}')
    make_dataset(images, per_class=args.per_class, size=96, seed=0)

    step(2, f'checking images and writing annotations -> {data_root}')
    report = make_annotations(images, data_root, progress=False)
    print(format_report(report, 'stop'))

    step(3, f'training {osp.relpath(CONFIG, ROOT)} for {args.epochs} epochs '
         f'at {args.size} px (from scratch, offline) -> {work_dir}')
    options = demo_options(args.epochs, args.size)
    train_tool.main([CONFIG, '--from-scratch', '--data-root',
                              data_root, '--work-dir', work_dir,
                              '--cfg-options', *options])
    checkpoint = best_checkpoint(work_dir)

    step(4, f'testing {osp.basename(checkpoint)}')
    predictions = osp.join(out, 'val_predictions.pkl')
    metrics = test_tool.main([CONFIG, checkpoint, '--data-root', data_root,
                              '--work-dir', osp.join(out, 'test'), '--out',
                              predictions, '--cfg-options', *options])

    step(5, 'drawing the learning-rate and training curves, the confusion '
         'matrix and the mistakes')
    lr_png = plot_lr.main([CONFIG, '--out', osp.join(out, 'lr_curve.png'),
                           '--cfg-options', *options, 'train_dataloader.'
                           f'dataset.data_root={data_root}'])
    curves_png = plot_curves.plot_curves(work_dir)
    analysis, _, _ = analyze_predictions.analyze(
        predictions, osp.join(data_root, 'classes.txt'),
        osp.join(out, 'analysis'))

    accuracy = metrics['accuracy/top1']
    print(f'\nDemo finished in {time.time() - start:.0f} s.'
          f'\n  val accuracy (top-1): {accuracy:.2f} %'
          f'\n  checkpoint:           {checkpoint}'
          f'\n  logs:                 {work_dir}/<timestamp>/'
          f'\n  plots:                {lr_png}\n                        '
          f'{curves_png}\n                        '
          f'{analysis["confusion_matrix.png"]}\n                        '
          f'{analysis["misclassified.png"]}'
          f'\n  per-class metrics:    {analysis["per_class.md"]}')
    return 0


if __name__ == '__main__':
    from custom_modules.setup_config import run_cli
    sys.exit(run_cli(main))
