"""A hook that kills its own training process, for tests of kill and resume."""
import os
import signal

from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class FaultInjectionHook(Hook):
    """SIGKILL the training process at a chosen point, as an out-of-memory
    kill or a power cut would: no handler, no cleanup, no flush.

    For the tests of kill and resume (tests/data/configs/resnet18_kill_resume.py
    imports it; tests/data/plugins must be on PYTHONPATH). All counts are
    1-based and count within this process.

    Args:
        kill_after_iter: Kill once this many training iterations are done
            (counting those of a resumed run's checkpoint).
        kill_in_save: Kill inside the Nth checkpoint save, before the file
            is written.
        kill_in_best_save: Kill inside the Nth save of a best checkpoint
            (one without optimizer state).
    """

    priority = 'LOWEST'

    def __init__(self, kill_after_iter=None, kill_in_save=None,
                 kill_in_best_save=None):
        self.kill_after_iter = kill_after_iter
        self.kill_in_save = kill_in_save
        self.kill_in_best_save = kill_in_best_save
        self._saves = 0
        self._best_saves = 0

    @staticmethod
    def _kill(runner, where):
        runner.logger.info(f'FaultInjectionHook: SIGKILL {where}')
        os.kill(os.getpid(), signal.SIGKILL)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.kill_after_iter:
            self._kill(runner, f'after iteration {runner.iter + 1}')

    def before_save_checkpoint(self, runner, checkpoint):
        self._saves += 1
        if 'optimizer' not in checkpoint:
            self._best_saves += 1
            if self._best_saves == self.kill_in_best_save:
                self._kill(runner, f'in best save {self._best_saves}')
        if self._saves == self.kill_in_save:
            self._kill(runner, f'in checkpoint save {self._saves}')
