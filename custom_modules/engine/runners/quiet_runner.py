"""A Runner whose terminal shows only what a person needs (mmengine gives
console and log file one ``log_level``; docs/cli_output.md)."""
import logging

from mmengine.runner import Runner
from mmpretrain.registry import RUNNERS

# mmengine's notices about its own internals, and one line per frozen
# parameter when paramwise_cfg is set (frozen on purpose): file-only.
_INTERNAL_NOTICES = ('"FileClient" will be deprecated',
                     '"HardDiskBackend" is the alias of "LocalBackend"',
                     'is skipped since its requires_grad=False')


def _console_handlers(logger):
    return [h for h in logger.handlers
            if isinstance(h, logging.StreamHandler)
            and not isinstance(h, logging.FileHandler)]


def console_level(logger):
    """The level below which ``logger`` prints nothing on the terminal."""
    return min((h.level for h in _console_handlers(logger)),
               default=logging.CRITICAL)


def _not_internal_notice(record):
    return not any(n in record.getMessage() for n in _INTERNAL_NOTICES)


@RUNNERS.register_module()
class QuietRunner(Runner):
    """mmengine's Runner with its own console log level.

    Args:
        *args, **kwargs: As :class:`mmengine.runner.Runner`. The config's
            ``console_log_level`` (e.g. ``'WARNING'``) sets the console's
            level; without it this is mmengine's Runner.
    """

    def build_logger(self, log_level='INFO', log_file=None, **kwargs):
        logger = super().build_logger(log_level, log_file, **kwargs)
        level = self.cfg.get('console_log_level')
        if level is not None:
            for handler in _console_handlers(logger):
                # Non-zero ranks print errors only; never make them louder.
                handler.setLevel(max(handler.level,
                                     logging._checkLevel(level)))
                if handler.level > logging.INFO:
                    handler.addFilter(_not_internal_notice)
        return logger
