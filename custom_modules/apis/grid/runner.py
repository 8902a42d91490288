"""Train, resume or skip each run of the grid, then test and analyse it.

Each run is a ``tools/train.py`` (or ``tools/dist_train.sh``) process in its
own work dir, ``<work-dir>/<config>[/seed<k>]``: a finished run
(``done.json``) is skipped, an interrupted one resumes from its last
checkpoint, so the same command picks a grid up where it stopped.
"""
import contextlib
import fnmatch
import glob
import io
import json
import os
import os.path as osp
import subprocess
import sys
import time

from mmengine.config import Config

from custom_modules.datasets.annotations import make_annotations
from custom_modules.datasets.synthetic_flowers import make_dataset
from custom_modules.engine.checkpoint_loading import is_url
from custom_modules.engine.pretrained import pretrained_init_cfgs
from custom_modules.evaluation.calibration import (
    calibration_path,
    read_calibration,
)
from custom_modules.evaluation.predictions import analyze, load_predictions
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import atomic_write

from ..cams import run_cams
from ..config import ROOT
from ..curves import plot_curves
from ..precision import speed_flags
from ..report import write_run_report
from ..run_logs import best_checkpoint, summarize_run
from .child import run_child

TOOLS = osp.join(ROOT, 'tools')
MODEL_NAMES = {'resnet18': 'ResNet-18', 'resnet101': 'ResNet-101',
               'resnet152': 'ResNet-152', 'vgg11': 'VGG-11',
               'efficientnet_lite0': 'EfficientNet-Lite0'}


class RunFailed(UserInputError):
    """A run's training or testing process failed; ``log`` holds its
    output."""

    def __init__(self, message, log, exit_code):
        super().__init__(f'{message}; log: {log}')
        self.log = log
        self.exit_code = exit_code


def failed_record(args, config, seed, error):
    """What the results table shows for a run that failed."""
    record = dict(zip(('model', 'frozen_stages', 'augmentation'),
                      describe(config)))
    record.update(config=osp.relpath(config, ROOT), seed=seed,
                  run_dir=run_dir_of(args.work_dir, config, seed),
                  failed=str(error).splitlines()[0],
                  log=getattr(error, 'log', None),
                  exit_code=getattr(error, 'exit_code', None))
    return record


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
    parts = stem.rsplit('_', 2)
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
        urls = [c['checkpoint'] for c in pretrained_init_cfgs(cfg.model)
                if is_url(c['checkpoint'])]  # package:// needs no file
        if urls:
            local = osp.join(args.pretrained_dir, osp.basename(urls[0]))
            if not osp.isfile(local):
                raise UserInputError(
                    f'{local} not found: --pretrained-dir must hold '
                    f'{osp.basename(urls[0])} (from {urls[0]}).')
            return ['--pretrained', local]
    return []


def child_args(args, options):
    """What every tool a run starts gets: data, precision flags, options."""
    return [*(['--data-root', args.data_root] if args.data_root else []),
            *speed_flags(args),
            *(['--cfg-options', *options] if options else [])]


def train_command(args, config, run_dir, resume, options):
    extra = ['--work-dir', run_dir, *(['--resume'] if resume else []),
             *weight_args(args, config), *child_args(args, options)]
    if args.gpus > 1:
        return ['bash', osp.join(TOOLS, 'dist_train.sh'), config,
                str(args.gpus), *extra]
    return [sys.executable, osp.join(TOOLS, 'train.py'), config, *extra]


def run_options(args, config, seed):
    options = list(args.cfg_options or [])
    if args.demo:
        options = [f'train_cfg.max_epochs={args.demo_epochs}', *options]
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
    log(f'{"resume" if resume else "train "} {run_dir} (progress: '
        f'{osp.join(run_dir, "grid_train.log")})')
    options = run_options(args, config, seed)
    timing_path = osp.join(run_dir, 'wall_time.json')
    spent = 0.0
    if resume and osp.isfile(timing_path):
        with open(timing_path) as f:
            spent = json.load(f)['seconds']
    os.makedirs(run_dir, exist_ok=True)
    start = time.time()
    env = dict(os.environ, PYTHON=sys.executable)  # for dist_train.sh
    train_log = osp.join(run_dir, 'grid_train.log')
    with open(train_log, 'a') as out:
        try:
            code = run_child(train_command(args, config, run_dir, resume,
                                           options),
                             cwd=ROOT, env=env, stdout=out,
                             stderr=subprocess.STDOUT)
        finally:  # also when the grid is interrupted
            spent += time.time() - start
            atomic_write(timing_path,
                         lambda f: json.dump({'seconds': spent}, f),
                         force=True)
    if code != 0:
        raise RunFailed(f'training {config} failed (exit {code})',
                        train_log, code)
    record = dict(zip(('model', 'frozen_stages', 'augmentation'),
                      describe(config)))
    record.update(config=osp.relpath(config, ROOT), seed=seed,
                  run_dir=run_dir, wall_time_s=spent,
                  **summarize_run(run_dir))
    if not args.no_analysis:
        analysis = analyze_run(args, config, run_dir, options)
        record['analysis'] = analysis.pop('outputs')
        record.update(analysis)
    atomic_write(done_path, lambda f: json.dump(record, f, indent=2),
                 force=True)
    if not args.no_analysis:  # the run's page, from all of the above
        write_run_report(run_dir, force=True)
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


def run_tool(command, log_path, what):
    """Run a tool in its own process group (:func:`.child.run_child`), its
    output to ``log_path``."""
    with open(log_path, 'w') as out:
        code = run_child(command, cwd=ROOT, stdout=out,
                         stderr=subprocess.STDOUT)
    if code != 0:
        raise RunFailed(f'{what} failed (exit {code})', log_path, code)


def analyze_run(args, config, run_dir, options):
    """Calibrate and test the best checkpoint (on test.txt when the data
    has one, else on val); draw its curves, matrix, mistakes and their
    Grad-CAM maps."""
    cfg = Config.fromfile(config)
    data_root = args.data_root or cfg.train_dataloader.dataset.data_root
    split = 'test' if osp.isfile(osp.join(data_root, 'test.txt')) else 'val'
    common = child_args(args, options)
    best = best_checkpoint(run_dir)
    if not osp.isfile(calibration_path(best)):
        run_tool([sys.executable, osp.join(TOOLS, 'analysis', 'calibrate.py'),
                  config, best, '--work-dir', osp.join(run_dir, 'calibration'),
                  *common], osp.join(run_dir, 'grid_calibrate.log'),
                 f'calibrating {run_dir}')
    preds = osp.join(run_dir, f'{split}_predictions.json')
    if not osp.isfile(preds):
        run_tool([sys.executable, osp.join(TOOLS, 'test.py'), config, best,
                  '--out', preds, '--work-dir', osp.join(run_dir, 'test'),
                  *common], osp.join(run_dir, 'grid_test.log'),
                 f'testing {run_dir}')
    out_dir = osp.join(run_dir, 'analysis')
    outputs, _, accuracy = analyze(
        preds, osp.join(data_root, 'classes.txt'), out_dir, force=True)
    outputs['training_curves.png'] = plot_curves(
        run_dir, osp.join(out_dir, 'training_curves.png'), force=True)
    cams_error = draw_cams(config, best, preds, out_dir, options, data_root,
                           outputs, small=getattr(args, 'demo', False))
    return dict(outputs=outputs, split=split, predictions=preds,
                **({'cams_error': cams_error} if cams_error else {}),
                **({'test_acc': accuracy} if split == 'test' else {}),
                **calibration_figures(best, preds if split == 'test'
                                      else None))


def draw_cams(config, checkpoint, preds, out_dir, options, data_root,
              outputs, small=False):
    """Grad-CAM maps of the run's worst mistakes into ``analysis/cams.png``
    (added to ``outputs``); ``small``: 4 mistakes and 1 hit per class (the
    demo's VGG runs at 224 px on CPU), else 8 and 2. An explanation is
    optional: a failure here is returned as a message for the record,
    never fails the run."""
    path = osp.join(out_dir, 'cams.png')
    try:
        # In the grid's own process: mmengine's "Loads checkpoint" print
        # would break the one line per run.
        with contextlib.redirect_stdout(io.StringIO()):
            outputs['cams.png'] = run_cams(
                config, checkpoint, preds, path, options,
                osp.join(data_root, 'classes.txt'),
                *((4, 1) if small else (8, 2)))
    except Exception as exc:  # any failure: the run's results still count
        if osp.isfile(path):  # ours, from an earlier try: not this model's
            os.remove(path)
        return f'{type(exc).__name__}: {exc}'.splitlines()[0]
    return None


def calibration_figures(checkpoint, test_preds=None):
    """ECE (%) on val, and on test if given, before and after scaling."""
    from custom_modules.evaluation.calibration import (
        apply_temperature,
        expected_calibration_error,
    )
    calibration = read_calibration(checkpoint)
    figures = dict(temperature=calibration['temperature'],
                   val_ece=calibration['val']['before']['ece'],
                   val_ece_scaled=calibration['val']['after']['ece'])
    if test_preds:
        probs, labels, _ = load_predictions(test_preds)
        scaled = apply_temperature(probs, calibration['temperature'])
        figures.update(
            test_ece=100 * expected_calibration_error(probs, labels),
            test_ece_scaled=100 * expected_calibration_error(scaled, labels))
    return figures


def prepare_demo(args):
    """Synthetic photos and annotations under the grid's work dir, and the
    small configs of ``configs/demo/`` (from scratch: no download)."""
    images = osp.join(args.work_dir, 'synthetic_flowers')
    data_root = osp.join(args.work_dir, 'flower_dataset')
    if not osp.isfile(osp.join(data_root, 'train.txt')):
        if not osp.isdir(images):
            make_dataset(images, per_class=args.demo_per_class, size=96)
        make_annotations(images, data_root, progress=False, force=True)
    args.data_root = data_root
    args.from_scratch = True
    args.config_dir = osp.join(ROOT, 'configs', 'demo')
