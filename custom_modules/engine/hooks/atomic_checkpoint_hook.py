"""Checkpoints that a kill at any instant cannot break or make inexact."""
import errno
import glob
import os
import os.path as osp
import random
import re

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook
from mmpretrain.registry import HOOKS

from custom_modules.utils.fileio import atomic_write, no_space_error, replace_durably

_TMP_SUFFIX = '.tmp'


def capture_rng_state():
    """Every global generator's state (mmengine seeds again on resume), as
    a dict that loads with weights_only=True."""
    state = dict(torch=torch.get_rng_state(), numpy=np.random.get_state(),
                 python=random.getstate())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state):
    """Put back what :func:`capture_rng_state` returned."""
    torch.set_rng_state(state['torch'])
    np.random.set_state(tuple(state['numpy']))
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's CheckpointHook, made crash-safe and exact.

    Each epoch is committed after its validation, at the next epoch's
    start: checkpoints written atomically, then ``last_checkpoint``, then
    outdated files deleted. A resume cleans up an unfinished commit and
    restores the random-number state (docs/reliability.md).

    Args:
        *args, **kwargs: As :class:`mmengine.hooks.CheckpointHook`; saving
            is per epoch (``by_epoch=True``) to a local folder.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.by_epoch:
            raise ValueError('AtomicCheckpointHook saves per epoch; use '
                             "mmengine's CheckpointHook for by_epoch=False.")
        self._due = False  # an epoch checkpoint waits for its commit
        self._replaced_bests = []  # (previous best path, new best path)
        self._resumed_rng = None

    def before_train(self, runner):
        super().before_train(runner)
        if not isinstance(self.file_backend, LocalBackend):
            raise ValueError(f'AtomicCheckpointHook writes to a local '
                             f'folder; {self.out_dir} is not one.')
        os.makedirs(self.out_dir, exist_ok=True)
        if is_main_process():
            self._remove_leftovers(runner)
        if runner.train_loop.iter == 0:
            self._resumed_rng = None  # load_from, not a resume
        loader = runner.train_loop.dataloader
        if self._resumed_rng is not None and loader.num_workers and getattr(
                loader, 'persistent_workers', False):
            runner.logger.warning(
                'Resuming with persistent dataloader workers: they start '
                'from their seeds again, so augmentations differ from an '
                'uninterrupted run (exact with persistent_workers=False).')

    def after_load_checkpoint(self, runner, checkpoint):
        self._resumed_rng = checkpoint.get('meta', {}).get('rng_state')

    def after_train_epoch(self, runner):
        if self.every_n_epochs(runner, self.interval, self.save_begin) or (
                self.save_last and self.is_last_train_epoch(runner)):
            self._due = True

    def after_val_epoch(self, runner, metrics):
        """Record a better score; its checkpoint is written at the commit."""
        if not metrics:
            runner.logger.warning('No validation metrics: no best '
                                  'checkpoint this epoch.')
            return
        if not self.save_best:
            return
        if 'auto' in self.key_indicators:
            self._init_rule(self.rules, [next(iter(metrics))])
        single = len(self.key_indicators) == 1
        hub = runner.message_hub
        for key, rule in zip(self.key_indicators, self.rules):
            score = metrics[key]
            suffix = '' if single else f'_{key}'
            best = hub.get_info(f'best_score{suffix}',
                                self.init_value_map[rule])
            if score is None or not self.is_better_than[key](score, best):
                continue
            hub.update_info(f'best_score{suffix}', score)
            name = f'best_{key}_{self.filename_tmpl.format(runner.epoch)}'
            path = osp.join(self.out_dir, name.replace('/', '_'))
            if single:
                previous, self.best_ckpt_path = self.best_ckpt_path, path
            else:
                previous = self.best_ckpt_path_dict[key]
                self.best_ckpt_path_dict[key] = path
            hub.update_info(f'best_ckpt{suffix}', path)
            self._replaced_bests.append((previous, path))
            runner.logger.info(f'Best {key} so far: {score:0.4f} at epoch '
                               f'{runner.epoch}; saving {osp.basename(path)}')
            self._due = True

    def before_train_epoch(self, runner):
        # lowest priority: the epoch is prepared, nothing random drawn yet
        if self._due:
            self._commit(runner)
        if self._resumed_rng is not None:
            restore_rng_state(self._resumed_rng)
            self._resumed_rng = None
            runner.logger.info('Random-number state restored from the '
                               'checkpoint.')

    def after_train(self, runner):
        if self._due:
            self._commit(runner)
        super().after_train(runner)

    def _save(self, runner, name, meta, full):
        """Write one checkpoint atomically; return its path."""
        path = osp.join(self.out_dir, name)
        tmp = f'.{name}{_TMP_SUFFIX}'
        try:
            runner.save_checkpoint(
                self.out_dir, tmp, self.file_client_args,
                save_optimizer=full and self.save_optimizer,
                save_param_scheduler=full and self.save_param_scheduler,
                meta=dict(meta), by_epoch=True,
                backend_args=self.backend_args,
                **(self.args if full else {}))
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
            # The previous commit stays whole; the part written goes.
            self._remove(osp.join(self.out_dir, tmp))
            raise no_space_error(path, exc) from exc
        if is_main_process():
            replace_durably(osp.join(self.out_dir, tmp), path)
        return path

    def _commit(self, runner):
        epoch = runner.epoch  # epochs finished (the loop has counted it)
        meta = dict(epoch=epoch, iter=runner.iter,
                    rng_state=capture_rng_state())
        for _, best in self._replaced_bests:
            self._save(runner, osp.basename(best), meta, full=False)
        outdated = []
        if self.max_keep_ckpts > 0:
            if not self.keep_ckpt_ids or self.keep_ckpt_ids[-1] != epoch:
                if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                    outdated.append(self.keep_ckpt_ids.popleft())
                self.keep_ckpt_ids.append(epoch)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        self.last_ckpt = osp.join(self.out_dir,
                                  self.filename_tmpl.format(epoch))
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        self._save(runner, osp.basename(self.last_ckpt), meta, full=True)
        if is_main_process():
            atomic_write(osp.join(runner.work_dir, 'last_checkpoint'),
                         lambda f: f.write(self.last_ckpt), force=True)
            for old in outdated:
                self._remove(osp.join(self.out_dir,
                                      self.filename_tmpl.format(old)))
            for previous, best in self._replaced_bests:
                # Not one in another run's folder (--resume OTHER/epoch_N).
                if previous and previous != best and osp.abspath(
                        osp.dirname(previous)) == osp.abspath(self.out_dir):
                    self._remove(previous)
        runner.logger.info(f'Checkpoint of epoch {epoch} committed: '
                           f'{self.last_ckpt}')
        self._replaced_bests = []
        self._due = False

    def _remove(self, path):
        if osp.isfile(path):
            os.remove(path)

    def _remove_leftovers(self, runner):
        """Delete what an interrupted commit left behind."""
        stale = glob.glob(osp.join(self.out_dir, f'.*{_TMP_SUFFIX}'))
        stale += glob.glob(osp.join(runner.work_dir, '.last_checkpoint*'))
        if runner.train_loop.iter > 0:  # resumed: later files are stale
            epoch = runner.train_loop.epoch
            keep = set(getattr(self, 'keep_ckpt_ids', []))
            pattern = re.escape(self.filename_tmpl).replace(r'\{\}', r'(\d+)')
            for path in glob.glob(osp.join(self.out_dir, '*')):
                match = re.fullmatch(pattern, osp.basename(path))
                if match and (int(match[1]) > epoch or (
                        self.max_keep_ckpts > 0 and int(match[1]) not in keep)):
                    stale.append(path)
            if self.save_best:
                bests = {osp.basename(p) for p in (
                    getattr(self, 'best_ckpt_path', None),
                    *getattr(self, 'best_ckpt_path_dict', {}).values()) if p}
                stale += [p for p in glob.glob(osp.join(self.out_dir,
                                                        'best_*.pth'))
                          if osp.basename(p) not in bests]
        for path in stale:
            self._remove(path)
            runner.logger.info(f'Removed {path}, left by an interrupted '
                               'checkpoint commit.')
