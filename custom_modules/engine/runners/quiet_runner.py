"""A Runner whose terminal shows only what a person needs.

mmengine's ``MMLogger`` gives its console handler and its file handler the
same ``log_level``, so the environment table, the config and the hook order
(hundreds of lines) reach the terminal before training starts. This Runner
keeps ``log_level`` (INFO) for the run's log file and sets the console
handler to the config's ``console_log_level`` (WARNING by default, see
``configs/_base_/default_runtime.py``); ``ProgressBarHook`` then draws the
progress. ``tools/train.py --verbose`` (``--log-level INFO``) brings
mmengine's full output back to the terminal.
"""
import logging

from mmengine.runner import Runner
from mmpretrain.registry import RUNNERS

# mmengine's notices about its own internals (CheckpointHook still builds a
# deprecated FileClient): nothing a user can act on, so file-only.
_INTERNAL_NOTICES = ('"FileClient" will be deprecated',
                     '"HardDiskBackend" is the alias of "LocalBackend"')


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

    Reads ``console_log_level`` from the config; without it, it behaves
    exactly as mmengine's Runner.
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
