"""What a person watching a run needs on the terminal, and nothing else."""
import logging
import os.path as osp
import sys
import time

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..runners import console_level


def _clock(seconds):
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return (f'{hours}:{minutes:02d}:{seconds:02d}' if hours
            else f'{minutes:02d}:{seconds:02d}')


def _metrics_text(metrics):
    return '  '.join(f'{k} {v:.2f}' if isinstance(v, float) else f'{k} {v}'
                     for k, v in metrics.items())


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """A progress bar per training epoch (rich on a terminal, else a line
    every ``line_interval`` s), validation and test metrics, and where the
    full log is; silent when the console shows mmengine's INFO lines.

    Args:
        val_keys (Sequence[str]): Validation metrics for the epoch line, in
            this order; those the run does not log are left out. ``train_*``
            keys come from the message hub (:class:`TrainAccuracyHook`).
        line_interval (float): Seconds between progress lines when stdout
            is not a terminal.
    """

    priority = 'BELOW_NORMAL'  # after RuntimeInfoHook logged loss and lr

    def __init__(self, val_keys=('accuracy/top1', 'single-label/f1-score',
                                 'train_accuracy/top1'),
                 line_interval=60):
        self.val_keys = tuple(val_keys)
        self.line_interval = line_interval
        self._bar = None

    def _active(self, runner):
        # One process draws; the others' consoles show errors only.
        return (is_main_process()
                and console_level(runner.logger) > logging.INFO)

    def before_run(self, runner):
        if self._active(runner):
            print(f'full log: {runner.logger.log_file}', flush=True)

    def before_train(self, runner):
        if self._active(runner) and runner.iter:  # load_or_resume ran
            print(f'resumed at epoch {runner.epoch}, iteration {runner.iter}',
                  flush=True)

    def before_train_epoch(self, runner):
        if not self._active(runner):
            return
        self._total = len(runner.train_dataloader)
        self._epoch = f'epoch {runner.epoch + 1}/{runner.max_epochs}'
        self._start = self._last_line = time.time()
        self._images = 0
        if sys.stdout.isatty():
            self._bar = Progress(
                TextColumn('{task.description}'), BarColumn(bar_width=24),
                MofNCompleteColumn(), TimeElapsedColumn(), TextColumn('eta'),
                TimeRemainingColumn(), TextColumn('{task.fields[info]}'),
                redirect_stderr=False)
            self._task = self._bar.add_task(self._epoch, total=self._total,
                                            info='')
            self._bar.start()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if not self._active(runner):
            return
        self._images += len(data_batch['inputs']) if data_batch else 0
        hub = runner.message_hub
        done = batch_idx + 1
        elapsed = time.time() - self._start
        eta = elapsed / done * (self._total - done)
        info = (f'loss {hub.get_scalar("train/loss").current():.4f}  '
                f'lr {hub.get_scalar("train/lr").current():.2e}  '
                f'{self._images / max(elapsed, 1e-9):.1f} img/s')
        self._line = (f'{self._epoch} [{done}/{self._total}] '
                      f'{100 * done // self._total:3d}%  {_clock(elapsed)} '
                      f'eta {_clock(eta)}  {info}')
        if self._bar is not None:
            self._bar.update(self._task, completed=done, info=info)
        elif (time.time() - self._last_line >= self.line_interval
              and eta >= self.line_interval):
            print(self._line, flush=True)  # the epoch's line is a minute off
            self._last_line = time.time()

    def after_train_epoch(self, runner):
        if not self._active(runner) or not hasattr(self, '_line'):
            return
        if self._bar is not None:
            self._bar.stop()  # the finished bar stays on screen
            self._bar = None
        else:
            print(self._line, flush=True)

    def after_val_epoch(self, runner, metrics=None):
        if not self._active(runner):
            return
        # RuntimeInfoHook (VERY_HIGH) has logged the metrics as val/<key>
        hub = runner.message_hub
        shown = {key: hub.get_scalar(f'val/{key}').current()
                 for key in self.val_keys if f'val/{key}' in hub.log_scalars}
        epoch = (f'epoch {runner.epoch}/{runner.max_epochs} '
                 if runner.cfg.get('train_cfg') else '')
        print(f'{epoch}val  {_metrics_text(shown or metrics or {})}',
              flush=True)

    def after_test_epoch(self, runner, metrics=None):
        if self._active(runner):
            # named after the file evaluated: calibration tests val.txt
            ann = getattr(runner.test_dataloader.dataset, 'ann_file', '')
            split = osp.splitext(osp.basename(ann or ''))[0] or 'test'
            print(f'{split}  {_metrics_text(metrics or {})}', flush=True)
