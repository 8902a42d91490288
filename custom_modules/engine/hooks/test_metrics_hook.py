"""Test metrics to the visualizer's backends (TensorBoard, MLflow)."""
import numbers

from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class TestMetricsToVisBackendsHook(Hook):
    """Send a test's scalar metrics to every visualizer backend as
    ``test/<metric>`` (mmengine's LoggerHook writes them to JSON only)."""

    __test__ = False  # not a pytest test class

    def after_test_epoch(self, runner, metrics=None):
        scalars = {f'test/{key}': float(value)
                   for key, value in (metrics or {}).items()
                   if isinstance(value, numbers.Real)}
        if scalars:
            runner.visualizer.add_scalars(scalars, step=0)
