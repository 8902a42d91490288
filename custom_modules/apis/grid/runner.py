"""Train, resume or skip each run of the grid, then test and analyse it."""
import contextlib
import fnmatch
import glob
import io
import os
import os.path as osp
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass

import mmengine
from mmengine.config import Config

from custom_modules.datasets.annotations import make_annotations
from custom_modules.datasets.synthetic_flowers import make_dataset
from custom_modules.engine.checkpoint_loading import is_url
from custom_modules.engine.pretrained import pretrained_init_cfgs
from custom_modules.evaluation.calibration import made_from, read_calibration
from custom_modules.evaluation.predictions import analyze, predictions_match
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import atomic_write, file_sha256, write_json
from custom_modules.utils.paths import ROOT

from ..cams import run_cams
from ..config import options_dict
from ..curves import plot_curves
from ..robustness import SHORT_SEVERITIES, SHORT_SHIFTS, robustness
from ..run_logs import best_checkpoint, run_config, summarize_run
from ..run_report import prediction_figures, write_run_report
from .child import run_child

TOOLS = osp.join(ROOT, 'tools')
MODEL_NAMES = {'resnet18': 'ResNet-18', 'resnet101': 'ResNet-101',
               'resnet152': 'ResNet-152', 'vgg11': 'VGG-11',
               'efficientnet_lite0': 'EfficientNet-Lite0'}


class RunFailed(UserInputError):
    """A child process of a run failed; ``log`` holds its output."""

    def __init__(self, message, log, exit_code):
        super().__init__(f'{message}; log: {log}')
        self.log, self.exit_code = log, exit_code


def select_configs(config_dir, patterns):
    """The configs of ``config_dir`` whose stem matches a glob pattern."""
    chosen = [c for c in sorted(glob.glob(osp.join(config_dir, '*.py')))
              if any(fnmatch.fnmatch(stem(c), p) for p in patterns)]
    if not chosen:
        raise UserInputError(
            f'no config in {config_dir} matches {" ".join(patterns)}; names '
            'look like resnet101_freeze2_mix (patterns use * and ?).')
    return chosen


def stem(config):
    return osp.splitext(osp.basename(config))[0]


def describe(config):
    """Model, frozen stages and augmentation, from the config's name."""
    parts = stem(config).rsplit('_', 2)
    if len(parts) == 3 and parts[1].startswith('freeze'):
        return MODEL_NAMES.get(parts[0], parts[0]), parts[1][6:], parts[2]
    return stem(config), '', ''


def prepare_demo(work_dir, per_class):
    """Synthetic photos and their annotations under ``work_dir``; returns
    the annotation folder."""
    images = osp.join(work_dir, 'synthetic_flowers')
    data_root = osp.join(work_dir, 'flower_dataset')
    if not osp.isfile(osp.join(data_root, 'train.txt')):
        if not osp.isdir(images):
            make_dataset(images, per_class=per_class, size=96)
        make_annotations(images, data_root, progress=False, force=True)
    return data_root


@dataclass
class Grid:
    """What every run of a grid shares.

    Args:
        work_dir (str): Each run trains in ``<work_dir>/<config>[/seed<k>]``.
        gpus (int): Processes per run; >1 trains through dist_train.sh.
        from_scratch (bool): Random initial weights.
        pretrained_dir (str, optional): Folder of the official checkpoints.
        data_root (str, optional): Annotation folder for every run.
        analysis (bool): Test, calibrate and plot each run's best checkpoint.
        keep_checkpoints (str): ``'best'`` or ``'all'``, for finished runs.
        cfg_options (list[str]): ``--cfg-options`` for every run.
        speed_flags (list[str]): Precision flags for every child tool.
        small (bool): Fewer Grad-CAM maps (the demo's CPU runs).
        vis_backends (list[str]): ``--vis-backend`` of every train.py.
        early_stop (int, optional): ``--early-stop`` of every train.py; the
            records then say where and why each run stopped.
        shift_benchmark (bool): With ``analysis``, also run the short shift
            benchmark on each best checkpoint (:meth:`shift_result`).
    """

    work_dir: str
    gpus: int = 1
    from_scratch: bool = False
    pretrained_dir: str | None = None
    data_root: str | None = None
    analysis: bool = True
    keep_checkpoints: str = 'best'
    cfg_options: tuple = ()
    speed_flags: tuple = ()
    small: bool = False
    vis_backends: tuple = ()
    early_stop: int | None = None
    shift_benchmark: bool = True

    def run(self, configs, seeds=(None, )):
        """Train every config with every seed, one after another; return
        a record per run (a failed run's names its error: the grid goes on).
        Interrupted (SIGINT/SIGTERM), it returns the finished runs' records
        and sets ``interrupted`` to the exit code."""
        runs = [(c, s) for c in configs for s in seeds]
        records, start = [], time.time()
        self.interrupted = None
        for i, (config, seed) in enumerate(runs, 1):
            def say(text, i=i):
                print(f'[{i}/{len(runs)}] {text}  ({time.time() - start:.0f} s)',
                      flush=True)
            try:
                records.append(self.train_run(config, seed, say))
            except (KeyboardInterrupt, SystemExit) as stop:
                # Ctrl-C (run_child turns it into SystemExit(130)): stop
                # here, so that the caller writes the finished runs' table.
                self.interrupted = 130 if isinstance(
                    stop, KeyboardInterrupt) else stop.code
                say(f'interrupted (exit {self.interrupted}); {len(records)} '
                    'finished run(s) go into the table')
                break
            except UserInputError as error:
                say(f'FAILED {error}')
                records.append(self.record(
                    config, seed, failed=str(error).splitlines()[0],
                    log=getattr(error, 'log', None),
                    exit_code=getattr(error, 'exit_code', None)))
        return records

    def run_dir(self, config, seed):
        return osp.join(self.work_dir, stem(config),
                        '' if seed is None else f'seed{seed}')

    def record(self, config, seed, **fields):
        return dict(zip(('model', 'frozen_stages', 'augmentation'),
                        describe(config)),
                    config=osp.relpath(config, ROOT), seed=seed,
                    run_dir=self.run_dir(config, seed), **fields)

    def options(self, seed):
        """The ``--cfg-options`` of one run."""
        return [*self.cfg_options,
                *([] if seed is None else [f'randomness.seed={seed}'])]

    def child_args(self, options):
        """What every tool a run starts gets: data, precision, options."""
        return [*(['--data-root', self.data_root] if self.data_root else []),
                *self.speed_flags,
                *(['--cfg-options', *options] if options else [])]

    def weight_args(self, config):
        if self.from_scratch:
            return ['--from-scratch']
        if not self.pretrained_dir:
            return []
        urls = [c['checkpoint'] for c in pretrained_init_cfgs(
            Config.fromfile(config).model) if is_url(c['checkpoint'])]
        if not urls:  # package:// needs no file
            return []
        local = osp.join(self.pretrained_dir, osp.basename(urls[0]))
        if not osp.isfile(local):
            raise UserInputError(
                f'{local} not found: --pretrained-dir must hold '
                f'{osp.basename(urls[0])} (from {urls[0]}).')
        return ['--pretrained', local]

    def train_command(self, config, run_dir, resume, options):
        """``tools/train.py`` (or ``dist_train.sh``) for one run."""
        extra = ['--work-dir', run_dir, *(['--resume'] if resume else []),
                 *self.weight_args(config), *self.child_args(options),
                 *(f'--vis-backend={name}' for name in self.vis_backends),
                 *(['--early-stop', str(self.early_stop)]
                   if self.early_stop else [])]
        if self.gpus > 1:
            return ['bash', osp.join(TOOLS, 'dist_train.sh'), config,
                    str(self.gpus), *extra]
        return [sys.executable, osp.join(TOOLS, 'train.py'), config, *extra]

    def train_run(self, config, seed, log):
        """Train, resume or skip (done.json) one run; return its record."""
        run_dir = self.run_dir(config, seed)
        done_path = osp.join(run_dir, 'done.json')
        if osp.isfile(done_path):
            log(f'skip   {run_dir} (finished)')
            record = mmengine.load(done_path)
            # finished before the shift benchmark ran (or when it failed)
            if (self.analysis and self.shift_benchmark and 'analysis' in record
                    and 'mean_corrupted_acc' not in record):
                record.pop('shift_error', None)
                record.update(self.shift_result(config, run_dir,
                                                self.options(seed)))
                write_json(done_path, record)
                write_run_report(run_dir, force=True)
            return record
        resume = osp.isfile(osp.join(run_dir, 'last_checkpoint'))
        train_log = osp.join(run_dir, 'grid_train.log')
        log(f'{"resume" if resume else "train "} {run_dir} (progress: '
            f'{train_log})')
        options = self.options(seed)
        timing_path = osp.join(run_dir, 'wall_time.json')
        spent = (mmengine.load(timing_path)['seconds']
                 if resume and osp.isfile(timing_path) else 0.0)
        os.makedirs(run_dir, exist_ok=True)
        start = time.time()
        try:
            run_tool(self.train_command(config, run_dir, resume, options),
                     train_log, f'training {config}', mode='a',
                     env=dict(os.environ, PYTHON=sys.executable))
        finally:  # also when the grid is interrupted
            spent += time.time() - start
            write_json(timing_path, {'seconds': spent})
        record = self.record(config, seed, wall_time_s=spent,
                             **summarize_run(run_dir))
        if self.early_stop:
            # where and why it stopped, e.g. ``2 of 4 (early stop)``
            max_epochs = run_config(run_dir).train_cfg.max_epochs
            why = 'early stop' if record['epochs'] < max_epochs else 'max epochs'
            record['stopped'] = f'{record["epochs"]} of {max_epochs} ({why})'
        if self.analysis:
            analysis = self.analyze_run(config, run_dir, options)
            record['analysis'] = analysis.pop('outputs')
            record.update(analysis)
        write_json(done_path, record)
        if self.analysis:  # the run's page, from all of the above
            write_run_report(run_dir, force=True)
        if self.keep_checkpoints == 'best':
            prune_checkpoints(run_dir)
        return record

    def analyze_run(self, config, run_dir, options):
        """Calibrate and test the best checkpoint (on test.txt when the data
        has one, else on val); draw its curves, matrix, mistakes and their
        Grad-CAM maps."""
        data_root = (self.data_root or
                     Config.fromfile(config).train_dataloader.dataset.data_root)
        split = 'test' if osp.isfile(osp.join(data_root, 'test.txt')) else 'val'
        classes = osp.join(data_root, 'classes.txt')
        common = self.child_args(options)
        best = best_checkpoint(run_dir)
        # Made again when absent or made from another checkpoint (a resumed
        # run's best may have been rewritten under the same name).
        if read_calibration(best) is None:
            run_tool([sys.executable, osp.join(TOOLS, 'analysis/calibrate.py'),
                      config, best, '--work-dir',
                      osp.join(run_dir, 'calibration'), '--force', *common],
                     osp.join(run_dir, 'grid_calibrate.log'),
                     f'calibrating {run_dir}')
        preds = osp.join(run_dir, f'{split}_predictions.json')
        if not (osp.isfile(preds) and predictions_match(preds, best)):
            run_tool([sys.executable, osp.join(TOOLS, 'test.py'), config, best,
                      '--out', preds, '--work-dir', osp.join(run_dir, 'test'),
                      '--force', *common], osp.join(run_dir, 'grid_test.log'),
                     f'testing {run_dir}')
        out_dir = osp.join(run_dir, 'analysis')
        outputs, _, accuracy = analyze(preds, classes, out_dir, force=True)
        outputs['training_curves.png'] = plot_curves(
            run_dir, osp.join(out_dir, 'training_curves.png'), force=True)
        calibration = read_calibration(best)  # ECE (%) before/after scaling
        result = dict(outputs=outputs, split=split, predictions=preds,
                      temperature=calibration['temperature'],
                      val_ece=calibration['val']['before']['ece'],
                      val_ece_scaled=calibration['val']['after']['ece'])
        if split == 'test':
            tested = prediction_figures(preds, calibration['temperature'])
            result.update(test_acc=accuracy, test_ece=tested['ece'],
                          test_ece_scaled=tested['ece_scaled'])
        if self.shift_benchmark:
            result.update(self.shift_result(config, run_dir, options))
        try:  # an explanation is optional: a failure never fails the run
            # mmengine's "Loads checkpoint" would break the one line per run.
            with contextlib.redirect_stdout(io.StringIO()):
                outputs['cams.png'] = run_cams(
                    config, best, preds, osp.join(out_dir, 'cams.png'),
                    options, classes, *((4, 1) if self.small else (8, 2)))
        except Exception as exc:
            with contextlib.suppress(FileNotFoundError):  # not this model's
                os.remove(osp.join(out_dir, 'cams.png'))
            result['cams_error'] = f'{type(exc).__name__}: {exc}'.splitlines()[0]
        return result

    def shift_result(self, config, run_dir, options):
        """The short shift benchmark (:data:`SHORT_SHIFTS` at
        :data:`SHORT_SEVERITIES`, as the photos demo runs it) of the run's best
        checkpoint, kept in ``shift_benchmark.json`` and reused while it
        matches the checkpoint; its tables go to ``robustness/``. Returns
        ``{'mean_corrupted_acc': %}``, or ``{'shift_error': why}``: a failure
        never fails the run."""
        best = best_checkpoint(run_dir)
        stored = osp.join(run_dir, 'shift_benchmark.json')
        setting = dict(shifts=list(SHORT_SHIFTS),
                       severities=list(SHORT_SEVERITIES))
        if osp.isfile(stored):
            summary = mmengine.load(stored)
            if made_from(summary, best, stored) and all(
                    summary.get(k) == v for k, v in setting.items()):
                return dict(mean_corrupted_acc=summary['mean_corrupted_accuracy'])
        # Its output to grid_shifts.log; through a buffer, which mmengine's
        # logger, if made here, may keep writing to (as for the CAMs).
        log, out = osp.join(run_dir, 'grid_shifts.log'), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                result = robustness(
                    config, best, **setting, fit_images=0, force=True,
                    data_root=self.data_root, cfg_options=options_dict(options))
        except Exception as exc:
            out.write(traceback.format_exc())
            return dict(shift_error=f'{type(exc).__name__}: {exc}'
                        .splitlines()[0] + f'; log: {log}')
        finally:
            atomic_write(log, lambda f: f.write(out.getvalue()), force=True)
        summary = dict(checkpoint_sha256=file_sha256(best), **setting, **{
            k: result[k] for k in ('clean_accuracy', 'mean_corrupted_accuracy')})
        write_json(stored, summary)
        return dict(mean_corrupted_acc=result['mean_corrupted_accuracy'])


def run_tool(command, log_path, what, mode='w', env=None):
    """Run ``command`` as a child of the grid (:func:`.child.run_child`),
    its output to ``log_path``; raise :class:`RunFailed` if it fails."""
    with open(log_path, mode) as out:
        code = run_child(command, cwd=ROOT, env=env, stdout=out,
                         stderr=subprocess.STDOUT)
    if code != 0:
        raise RunFailed(f'{what} failed (exit {code})', log_path, code)


def prune_checkpoints(run_dir):
    """Keep only the best checkpoint of a finished (done.json) run: it is
    never resumed, and twelve runs of epoch checkpoints (VGG-11's are 1.6 GB
    with Adam's state) would fill a disk."""
    best = best_checkpoint(run_dir)
    for path in glob.glob(osp.join(run_dir, 'epoch_*.pth')):
        if osp.abspath(path) != osp.abspath(best):
            os.remove(path)
    atomic_write(osp.join(run_dir, 'last_checkpoint'),
                 lambda f: f.write(best), force=True)
