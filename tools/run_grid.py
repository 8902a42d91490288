"""Run the report's 12-run grid (or a subset) and tabulate the results.

    python tools/run_grid.py                           # all 12 configs
    python tools/run_grid.py --configs 'resnet101_*' --seeds 0 1 2
    python tools/run_grid.py --demo                    # offline, synthetic

Each run trains in its own work dir (``<work-dir>/<config>[/seed<k>]``),
one after another, through tools/train.py (or tools/dist_train.sh with
``--gpus N``). A finished run (``done.json``) is skipped, an interrupted one
resumes from its last checkpoint, so the same command picks a grid up where
it stopped. Then each run's best checkpoint is tested (per-class metrics,
confusion matrix, mistakes, training curves), and ``results.md``,
``results.csv`` and ``results.png`` are written in ``--work-dir``.
"""
import argparse
import fnmatch
import glob
import json
import math
import os
import os.path as osp
import subprocess
import sys
import time

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(HERE)
sys.path[:0] = [ROOT, osp.join(HERE, 'dataset'), osp.join(HERE, 'analysis')]

import matplotlib  # noqa: E402

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
from mmengine.config import Config  # noqa: E402

from custom_modules.errors import UserInputError  # noqa: E402
from custom_modules.outputs import atomic_write, save_figure  # noqa: E402
from custom_modules.pretrained import pretrained_init_cfgs  # noqa: E402
from custom_modules.run_logs import best_checkpoint, summarize_run  # noqa: E402
from custom_modules.setup_config import image_size_options, run_cli  # noqa: E402

MODEL_NAMES = {'resnet101': 'ResNet-101', 'resnet152': 'ResNet-152',
               'vgg11': 'VGG-11'}
COLUMNS = ['model', 'frozen_stages', 'augmentation', 'train_acc', 'val_acc',
           'best_epoch', 'macro_f1', 'wall_time_s', 'img_per_s']
METRICS = ['train_acc', 'val_acc', 'best_epoch', 'macro_f1', 'wall_time_s',
           'img_per_s']
HOW_MEASURED = """\
How the numbers are measured (all from each run's own logs):

- **Val acc**: top-1 accuracy on val.txt at the best epoch (the first epoch
  with the highest val accuracy, whose checkpoint is kept as best).
- **Train acc**: top-1 accuracy on the *training split with the test
  pipeline* (resize 256, centre crop 224, no augmentation), measured by
  TrainAccuracyHook after each validation, read at the best epoch. Same
  weights, pipeline and metric as val, so the gap is overfitting.
- **Macro F1**: F1 averaged over the classes, on val, at the best epoch.
- **Wall time**: seconds tools/train.py ran (all resumed parts together).
- **Images/s**: training batch size over the mean iteration time (data
  loading included, validation excluded), per process.
"""


# ------------------------------------------------------------------ the grid
def select_configs(config_dir, patterns):
    configs = sorted(glob.glob(osp.join(config_dir, '*.py')))
    chosen = [c for c in configs if any(
        fnmatch.fnmatch(osp.splitext(osp.basename(c))[0], p)
        for p in patterns)]
    if not chosen:
        raise UserInputError(
            f'no config in {config_dir} matches {" ".join(patterns)}; names '
            'look like resnet101_freeze2_mix (patterns use * and ?).')
    return chosen


def describe(config):
    """Model, frozen stages and augmentation from the config's name."""
    stem = osp.splitext(osp.basename(config))[0]
    parts = stem.split('_')
    if len(parts) == 3 and parts[1].startswith('freeze'):
        return MODEL_NAMES.get(parts[0], parts[0]), parts[1][6:], parts[2]
    return stem, '', ''


def run_dir_of(work_dir, config, seed):
    stem = osp.splitext(osp.basename(config))[0]
    return osp.join(work_dir, stem, f'seed{seed}' if seed is not None else '')


def weight_args(args, config):
    if args.from_scratch:
        return ['--from-scratch']
    if args.pretrained_dir:
        cfg = Config.fromfile(config)
        urls = [c['checkpoint'] for c in pretrained_init_cfgs(cfg.model)]
        if urls:
            local = osp.join(args.pretrained_dir, osp.basename(urls[0]))
            if not osp.isfile(local):
                raise UserInputError(
                    f'{local} not found: --pretrained-dir must hold '
                    f'{osp.basename(urls[0])} (from {urls[0]}).')
            return ['--pretrained', local]
    return []


def train_command(args, config, run_dir, resume, options):
    extra = ['--work-dir', run_dir, *(['--resume'] if resume else []),
             *weight_args(args, config),
             *(['--data-root', args.data_root] if args.data_root else []),
             *(['--cfg-options', *options] if options else [])]
    if args.gpus > 1:
        return ['bash', osp.join(HERE, 'dist_train.sh'), config,
                str(args.gpus), *extra]
    return [sys.executable, osp.join(HERE, 'train.py'), config, *extra]


def run_options(args, config, seed):
    options = list(args.cfg_options or [])
    if args.demo:
        size = 224 if 'vgg' in osp.basename(config) else args.demo_size
        options = [*demo_options(args.demo_epochs), *image_size_options(size),
                   *options]
    if seed is not None:
        options.append(f'randomness.seed={seed}')
    return options


def train_run(args, config, seed, log):
    """Train (or resume, or skip) one run; return its done.json record."""
    run_dir = run_dir_of(args.work_dir, config, seed)
    done_path = osp.join(run_dir, 'done.json')
    if osp.isfile(done_path):
        log(f'skip   {run_dir} (finished)')
        with open(done_path) as f:
            return json.load(f)
    resume = osp.isfile(osp.join(run_dir, 'last_checkpoint'))
    log(f'{"resume" if resume else "train "} {run_dir}')
    options = run_options(args, config, seed)
    timing_path = osp.join(run_dir, 'wall_time.json')
    spent = 0.0
    if resume and osp.isfile(timing_path):
        with open(timing_path) as f:
            spent = json.load(f)['seconds']
    os.makedirs(run_dir, exist_ok=True)
    start = time.time()
    env = dict(os.environ, PYTHON=sys.executable)  # for dist_train.sh
    with open(osp.join(run_dir, 'grid_train.log'), 'a') as out:
        code = subprocess.call(train_command(args, config, run_dir, resume,
                                             options),
                               cwd=ROOT, env=env, stdout=out,
                               stderr=subprocess.STDOUT)
    spent += time.time() - start
    atomic_write(timing_path, lambda f: json.dump({'seconds': spent}, f),
                 force=True)
    if code != 0:
        with open(osp.join(run_dir, 'grid_train.log')) as f:
            tail = f.read()[-2000:]
        raise UserInputError(f'training {config} failed (exit {code}); '
                             f'log: {run_dir}/grid_train.log\n{tail}')
    cfg = Config.fromfile(config)
    record = dict(zip(('model', 'frozen_stages', 'augmentation'),
                      describe(config)))
    record.update(config=osp.relpath(config, ROOT), seed=seed,
                  run_dir=run_dir, wall_time_s=spent,
                  **summarize_run(run_dir, cfg.train_dataloader.batch_size))
    if not args.no_analysis:
        record['analysis'] = analyze_run(args, config, run_dir, options)
    atomic_write(done_path, lambda f: json.dump(record, f, indent=2),
                 force=True)
    if args.keep_checkpoints == 'best':
        prune_checkpoints(run_dir)
    return record


def prune_checkpoints(run_dir):
    """Keep only the best checkpoint of a finished run.

    A finished run is never resumed, and twelve runs of epoch checkpoints
    (VGG-11's are 1.6 GB with Adam's state) would fill a disk. Runs only
    after done.json is written, so an interrupted grid loses nothing.
    """
    best = best_checkpoint(run_dir)
    for path in glob.glob(osp.join(run_dir, 'epoch_*.pth')):
        if osp.abspath(path) != osp.abspath(best):
            os.remove(path)
    atomic_write(osp.join(run_dir, 'last_checkpoint'),
                 lambda f: f.write(best), force=True)


def analyze_run(args, config, run_dir, options):
    """Test the best checkpoint; draw its curves, matrix and mistakes."""
    import analyze_predictions
    import plot_curves

    preds = osp.join(run_dir, 'val_predictions.pkl')
    if not osp.isfile(preds):
        command = [sys.executable, osp.join(HERE, 'test.py'), config,
                   best_checkpoint(run_dir), '--out', preds, '--work-dir',
                   osp.join(run_dir, 'test'),
                   *(['--data-root', args.data_root] if args.data_root
                     else []),
                   *(['--cfg-options', *options] if options else [])]
        with open(osp.join(run_dir, 'grid_test.log'), 'w') as out:
            code = subprocess.call(command, cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT)
        if code != 0:
            raise UserInputError(f'testing {run_dir} failed; see '
                                 f'{run_dir}/grid_test.log')
    cfg = Config.fromfile(config)
    data_root = args.data_root or cfg.train_dataloader.dataset.data_root
    out_dir = osp.join(run_dir, 'analysis')
    outputs, _, _ = analyze_predictions.analyze(
        preds, osp.join(data_root, 'classes.txt'), out_dir, force=True)
    outputs['training_curves.png'] = plot_curves.plot_curves(
        run_dir, osp.join(out_dir, 'training_curves.png'), force=True)
    return outputs


# ------------------------------------------------------------------ results
def mean_std(values):
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, None
    return mean, math.sqrt(sum((v - mean)**2 for v in values) /
                           (len(values) - 1))


def aggregate(records):
    """One row per config: mean and sample std over its seeds."""
    by_config = {}
    for r in records:
        by_config.setdefault(r['config'], []).append(r)
    rows = []
    for runs in by_config.values():
        row = {k: runs[0][k] for k in ('config', 'model', 'frozen_stages',
                                       'augmentation')}
        row['seeds'] = len(runs)
        for key in METRICS:
            row[key], row[f'{key}_std'] = mean_std([r.get(key) for r in runs])
        rows.append(row)
    return rows


def fmt(value, std=None, digits=2):
    if value is None:
        return '-'
    text = f'{value:.{digits}f}'
    return text + (f' ± {std:.{digits}f}' if std is not None else '')


def results_markdown(rows):
    seeds = max(r['seeds'] for r in rows)
    header = ('| Model | Frozen stages | Augmentation | Train acc (%) | '
              'Val acc (%) | Best epoch | Macro F1 (%) | Wall time (s) | '
              'Images/s |')
    lines = [f'# Results: {len(rows)} configurations, {seeds} '
             f'seed{"s" if seeds > 1 else ""} each', '', header,
             '|---|---:|---|---:|---:|---:|---:|---:|---:|']
    for r in rows:
        lines.append(
            f'| {r["model"]} | {r["frozen_stages"]} | {r["augmentation"]} | '
            f'{fmt(r["train_acc"], r["train_acc_std"])} | '
            f'{fmt(r["val_acc"], r["val_acc_std"])} | '
            f'{fmt(r["best_epoch"], r["best_epoch_std"], 0 if seeds == 1 else 1)} | '
            f'{fmt(r["macro_f1"], r["macro_f1_std"])} | '
            f'{fmt(r["wall_time_s"], r["wall_time_s_std"], 0)} | '
            f'{fmt(r["img_per_s"], r["img_per_s_std"], 1)} |')
    best = max(rows, key=lambda r: r['val_acc'])
    lines += ['', f'Best: {best["model"]}, {best["frozen_stages"]} frozen '
              f'stages, {best["augmentation"]} augmentation: '
              f'{fmt(best["val_acc"], best["val_acc_std"])} % val.', '']
    if seeds > 1:
        lines += [f'± is the sample standard deviation over {seeds} seeds.',
                  '']
    lines.append(HOW_MEASURED)
    return '\n'.join(lines)


def write_csv(rows, f):
    import csv
    fields = ['config', 'seeds'] + [c for key in COLUMNS for c in (
        [key, f'{key}_std'] if key in METRICS else [key])]
    writer = csv.DictWriter(f, fieldnames=fields, extrasaction='ignore')
    writer.writeheader()
    writer.writerows(rows)


def results_chart(rows):
    labels = [f'{r["model"]} f{r["frozen_stages"]} {r["augmentation"]}'
              for r in rows]
    ys = range(len(rows))
    def errors(key):  # error bars only where several seeds give a std
        stds = [r[f'{key}_std'] for r in rows]
        return [s or 0 for s in stds] if any(stds) else None

    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.5))
    ax.barh([y + 0.2 for y in ys], [r['val_acc'] for r in rows], height=0.4,
            xerr=errors('val_acc'), capsize=3, label='val', color='tab:blue')
    ax.barh([y - 0.2 for y in ys], [r['train_acc'] or 0 for r in rows],
            height=0.4, xerr=errors('train_acc'), capsize=3,
            label='train (test pipeline)', color='tab:orange', alpha=0.6)
    for y, r in zip(ys, rows):
        ax.text(r['val_acc'] + 0.5, y + 0.2, f'{r["val_acc"]:.1f}',
                va='center', fontsize=8)
    ax.set_yticks(list(ys), labels)
    ax.invert_yaxis()
    ax.set(xlabel='top-1 accuracy (%)', xlim=(0, 105),
           title='Accuracy per configuration (best epoch)')
    ax.legend(loc='lower right', fontsize=8)
    ax.grid(axis='x', alpha=0.3)
    return fig


def write_results(work_dir, records):
    rows = aggregate(records)
    order = {c: i for i, c in enumerate(MODEL_NAMES.values())}
    rows.sort(key=lambda r: (order.get(r['model'], 99), r['frozen_stages'],
                             r['augmentation'], r['config']))
    paths = {name: osp.join(work_dir, name) for name in (
        'results.md', 'results.csv', 'results.png')}
    atomic_write(paths['results.md'],
                 lambda f: f.write(results_markdown(rows)), force=True)
    atomic_write(paths['results.csv'], lambda f: write_csv(rows, f),
                 force=True)
    fig = results_chart(rows)
    save_figure(fig, paths['results.png'], force=True)
    plt.close(fig)
    return paths, rows


# --------------------------------------------------------------------- demo
def demo_options(epochs):
    """Tiny settings; the configs' own optimizer and lr are kept."""
    return [f'train_cfg.max_epochs={epochs}', 'param_scheduler.warmup_end=1',
            'param_scheduler.decay_end=1', 'train_dataloader.batch_size=8',
            'default_hooks.checkpoint.max_keep_ckpts=1',
            *[f'{s}_dataloader.num_workers=0' for s in ('train', 'val', 'test')]]


def prepare_demo(args):
    """Synthetic photos and annotations under the grid's work dir."""
    from make_annotations import make_annotations
    from make_synthetic_flowers import make_dataset

    images = osp.join(args.work_dir, 'synthetic_flowers')
    data_root = osp.join(args.work_dir, 'flower_dataset')
    if not osp.isfile(osp.join(data_root, 'train.txt')):
        if not osp.isdir(images):
            make_dataset(images, per_class=args.demo_per_class, size=96)
        make_annotations(images, data_root, progress=False, force=True)
    args.data_root = data_root
    args.from_scratch = True


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Run the 12-config grid and write results tables.')
    parser.add_argument('--configs', nargs='+', default=['*'],
                        help='config name patterns (default: all), e.g. '
                        "'resnet101_*' '*_mix'")
    parser.add_argument('--config-dir', default=osp.join(ROOT, 'configs'))
    parser.add_argument('--work-dir', default='work_dirs/grid')
    parser.add_argument('--seeds', nargs='+', type=int,
                        help='repeat each run with these seeds')
    parser.add_argument('--gpus', type=int, default=1,
                        help='GPUs per run (>1 uses tools/dist_train.sh)')
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument('--pretrained-dir',
                         help='folder holding the official checkpoints '
                         '(offline machines)')
    weights.add_argument('--from-scratch', action='store_true')
    parser.add_argument('--data-root', help='annotation folder for every run')
    parser.add_argument('--no-analysis', action='store_true',
                        help='skip testing the best checkpoints and plots')
    parser.add_argument('--keep-checkpoints', choices=['best', 'all'],
                        default='best',
                        help='what a finished run keeps (default: %(default)s'
                        '; interrupted runs always keep all)')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='passed to every run, e.g. '
                        'train_cfg.max_epochs=10')
    parser.add_argument('--demo', action='store_true',
                        help='offline smoke run on synthetic images, from '
                        'scratch, tiny settings')
    parser.add_argument('--demo-epochs', type=int, default=2)
    parser.add_argument('--demo-size', type=int, default=64,
                        help='ResNet image size in --demo (VGG needs 224)')
    parser.add_argument('--demo-per-class', type=int, default=20)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    configs = select_configs(args.config_dir, args.configs)
    if args.demo:
        prepare_demo(args)
    seeds = args.seeds or [None]
    total = len(configs) * len(seeds)
    records = []
    start = time.time()
    for i, (config, seed) in enumerate(
            ((c, s) for c in configs for s in seeds), 1):
        def log(text, i=i):
            print(f'[{i}/{total}] {text}  ({time.time() - start:.0f} s)',
                  flush=True)
        records.append(train_run(args, config, seed, log))
    paths, rows = write_results(args.work_dir, records)
    with open(paths['results.md']) as f:
        print('\n' + f.read().split('\nHow the numbers')[0])
    for path in paths.values():
        print(f'wrote {path}')
    return rows


if __name__ == '__main__':
    run_cli(main)
