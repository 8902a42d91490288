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


def _both_numpy_paths(obj, name):
    """numpy 2 renamed ``numpy.core`` to ``numpy._core``; accept both."""
    return [(obj, f'numpy.core.multiarray.{name}'),
            (obj, f'numpy._core.multiarray.{name}')]


SAFE_GLOBALS = [
    HistoryBuffer,
    (history_buffer_method, 'builtins.getattr'),
    np.ndarray,
    np.dtype,
    *_both_numpy_paths(_multiarray._reconstruct, '_reconstruct'),
    *_both_numpy_paths(_multiarray.scalar, 'scalar'),
    # numpy >= 1.25 pickles dtypes through their classes, e.g. Float64DType.
    *[type(np.dtype(code)) for code in 'bBhHiIlLqQefdgFDG?'],
]


def register_safe_globals():
    """Allow-list :data:`SAFE_GLOBALS` for ``torch.load``; idempotent."""
    torch.serialization.add_safe_globals(SAFE_GLOBALS)
