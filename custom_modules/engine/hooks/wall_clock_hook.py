"""Log the wall time of each validated epoch with its val metrics."""
import time

from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class WallClockHook(Hook):
    """Log ``wall_clock_s`` (seconds since ``start``) with each epoch's val
    metrics, in ``scalars.json``: the x axis of a time-to-accuracy curve.

    Args:
        start (float, optional): A ``time.time()`` value; default: the
            run's ``before_run``.
    """

    priority = 'NORMAL'  # before LoggerHook writes the val entry
    # not "..._time": LogProcessor would log a running mean of such keys

    def __init__(self, start=None):
        self.start = start

    def before_run(self, runner):
        if self.start is None:
            self.start = time.time()

    def after_val_epoch(self, runner, metrics=None):
        runner.message_hub.update_scalar('val/wall_clock_s',
                                         time.time() - self.start)
