"""Speed of bare PyTorch against our training, testing and inference, in one table.

``python tools/analysis/benchmark.py [CONFIG]``; ``--smoke``: a tiny model on tiny
generated images, in seconds. Code: :mod:`custom_modules.apis.benchmark.torch_speed`.

``--time-to-accuracy TARGET --recipes A.py B.py``: each recipe's wall time to
TARGET % val accuracy (:mod:`custom_modules.apis.benchmark.time_to_accuracy`).
"""
import argparse
import os.path as osp

from custom_modules.apis.benchmark.time_to_accuracy import (
    summary_table,
    time_to_accuracy,
    write_results,
)
from custom_modules.apis.benchmark.torch_speed import MODES, PARTS, Settings, benchmark
from custom_modules.apis.config import load_config
from custom_modules.datasets.annotations import make_annotations
from custom_modules.utils.cli import add_force, run_cli
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import atomic_write, check_new
from custom_modules.utils.paths import ROOT, SHARED_PHOTOS

SMOKE = dict(config=osp.join(ROOT, 'tests/data/configs/resnet18_freeze2_fixed.py'),
             batch=4, size=32, iters=1, warmup=1, eval_iters=2, batch_sizes=[4],
             frozen=[2], epoch_max_images=16, workers=0,
             modes=['fp32', 'amp+channels_last'])


def fractions(text):
    """``--epoch-fractions 0.25,0.5,1``: shares in (0, 1]."""
    try:
        values = [float(v) for v in text.split(',') if v.strip()]
    except ValueError:
        values = []
    if not values or not all(0 < v <= 1 for v in values):
        raise argparse.ArgumentTypeError(
            f'{text!r}: give shares of the training split in (0, 1], '
            'comma-separated, e.g. 0.25,0.5,1')
    return values


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add = parser.add_argument
    add('config', nargs='?', default='configs/resnet101_freeze2_fixed.py',
        help='the model to time (default: %(default)s)')
    add('--batch', type=int, default=8, help='batch size (default: %(default)s)')
    add('--size', type=int, default=224, help='image size (crop) in pixels')
    add('--iters', type=int, default=5, help='timed iterations per measurement')
    add('--warmup', type=int, default=2, help='untimed iterations before them')
    add('--batch-sizes', type=int, nargs='+', default=[4, 8, 16],
        help='batch sizes of the batch-size rows (default: 4 8 16)')
    add('--frozen', type=int, nargs='+', default=[-1, 2, 3],
        help='frozen_stages values to compare')
    add('--modes', nargs='+', choices=list(MODES), default=list(MODES),
        help='precision / layout modes (fp32 always runs)')
    add('--parts', nargs='+', choices=PARTS, default=PARTS,
        help='what to measure (default: everything)')
    add('--workers', type=int, help="dataloader workers (default: the config's)")
    add('--eval-iters', type=int, default=20,
        help='timed batches of each eval measurement')
    add('--epoch-fractions', type=fractions, default=[0.25, 0.5, 1.0],
        help='shares of train.txt to time one epoch over (default: 0.25,0.5,1)')
    add('--epoch-max-images', type=int, help='cap: time the fractions of the first '
        'N training images only (default: all of train.txt)')
    add('--photos', default=SHARED_PHOTOS,
        help='class-per-folder photos (default: the shared flower photos; '
        'generated images if absent)')
    add('--data-root', help='existing annotation files to use instead of --photos')
    add('--out', help='also write the table to this .md')
    add_force(parser, 'an existing --out file')
    add('--smoke', action='store_true',
        help='tiny model, tiny generated images: seconds')
    add = parser.add_argument_group('time to accuracy').add_argument
    add('--time-to-accuracy', type=float, metavar='TARGET', help='train each of '
        '--recipes and time it to TARGET %% val top-1 (then CONFIG and the speed '
        'options are not used)')
    add('--recipes', nargs='+', help='the configs to train')
    add('--seed', type=int, default=0,
        help='seed of each recipe\'s training run (default: 0)')
    add('--work-dir', default='work_dirs/time_to_accuracy',
        help='runs, time_to_accuracy.md and .png (default: %(default)s)')
    add('--from-scratch', action='store_true',
        help='train without the pretrained weights')
    args = parser.parse_args(argv)
    if args.time_to_accuracy is not None and not args.recipes:
        raise UserInputError('--time-to-accuracy needs --recipes CONFIG [CONFIG ...]')
    if args.smoke:
        vars(args).update(SMOKE)
    for name in ('batch', 'size', 'iters', 'eval_iters', 'epoch_max_images'):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise UserInputError(f'--{name.replace("_", "-")} must be >= 1.')
    if args.warmup < 0:
        raise UserInputError('--warmup must be >= 0.')
    return args


def main_time_to_accuracy(args):
    """The --time-to-accuracy mode: annotations (8:1:1) for --photos unless
    --data-root, then every recipe; prints and writes the table and the plot."""
    for config in args.recipes:
        load_config(config)
    data_root = args.data_root
    if not data_root:
        data_root = osp.join(args.work_dir, 'annotations')
        make_annotations(args.photos, data_root, split='8:1:1', on_problem='exclude',
                         progress=False, force=args.force)
    results = time_to_accuracy(args.recipes, args.time_to_accuracy, data_root,
                               args.work_dir, args.seed, from_scratch=args.from_scratch,
                               force=args.force)
    print('\n'.join(summary_table(results, args.time_to_accuracy)))
    print('wrote ' + ', '.join(write_results(results, args.time_to_accuracy,
                                            args.work_dir, args.force)))
    return results


def main(argv=None):
    args = parse_args(argv)
    if args.time_to_accuracy is not None:
        return main_time_to_accuracy(args)
    load_config(args.config)  # a clear error for a wrong path, up front
    if args.out:
        if not args.out.endswith('.md'):
            raise UserInputError(f'--out {args.out}: use a .md file name.')
        check_new(args.out, args.force)
    table = benchmark(Settings(**{k: getattr(args, k) for k in Settings._fields}))
    if args.out:
        atomic_write(args.out, lambda f: f.write(table), args.force)
        print(f'wrote {args.out}')
    return table


if __name__ == '__main__':
    run_cli(main)
