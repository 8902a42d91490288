"""Let ``torch.load(weights_only=True)`` read mmengine/mmpretrain checkpoints.

A Runner checkpoint holds a MessageHub: ``HistoryBuffer`` objects with numpy
arrays and scalars, whose statistics methods pickle as
``getattr(HistoryBuffer, 'min')``. We allow exactly those globals; in place
of ``getattr`` a stand-in that only returns HistoryBuffer statistics methods,
so a checkpoint from the internet cannot reach other attributes or run code.
"""
import pickle

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

try:  # numpy >= 2
    from numpy._core import multiarray as _multiarray
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray


# Filled lazily by HistoryBuffer.__init__, so list the defaults explicitly.
_DEFAULT_STATISTICS = ('min', 'max', 'current', 'mean')


def history_buffer_method(owner, name):
    """Stand-in for ``getattr`` that only resolves HistoryBuffer statistics."""
    allowed = (*_DEFAULT_STATISTICS, *HistoryBuffer._statistics_methods)
    if owner is HistoryBuffer and name in allowed:
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for attribute {name!r} of {owner!r}; only '
        'HistoryBuffer statistics methods are allowed. The file was not '
        'written by mmengine, or has been tampered with.')


SAFE_GLOBALS = [
    HistoryBuffer,
    (history_buffer_method, 'builtins.getattr'),
    np.ndarray,
    np.dtype,
    # numpy 2 renamed ``numpy.core`` to ``numpy._core``; accept both.
    *[(getattr(_multiarray, name), f'numpy.{core}.multiarray.{name}')
      for name in ('_reconstruct', 'scalar') for core in ('core', '_core')],
    # numpy >= 1.25 pickles dtypes through their classes, e.g. Float64DType.
    *[type(np.dtype(code)) for code in 'bBhHiIlLqQefdgFDG?'],
]


def register_safe_globals():
    """Allow-list :data:`SAFE_GLOBALS` for ``torch.load``; idempotent."""
    torch.serialization.add_safe_globals(SAFE_GLOBALS)
