"""Runners registered into mmpretrain's ``RUNNERS``."""
from .quiet_runner import QuietRunner, console_level

__all__ = ['QuietRunner', 'console_level']
