"""Read a checkpoint file the one safe way, ``torch.load(weights_only=True)``,
each refusal a message; every checkpoint read of ours (mmengine's through
:mod:`custom_modules.engine.checkpoint_loading`) goes through here."""
import os.path as osp
import pickle

import torch

from .errors import UserInputError


class UnsafeCheckpointError(UserInputError):
    """A checkpoint asks for code to run, or for a type we do not allow."""


class UnreadableCheckpointError(UserInputError):
    """A checkpoint file that is truncated or not a torch file at all."""


def _refused_global(exc):
    """The part of torch's message that names what was refused."""
    for line in str(exc).splitlines():
        if 'GLOBAL' in line or 'Unsupported' in line:
            return line.strip()
    return str(exc).splitlines()[0].strip() if str(exc) else type(exc).__name__


def load_checkpoint_file(path, map_location='cpu'):
    """Read a local checkpoint with ``weights_only=True`` and the allow-list
    of :mod:`.checkpoint_safety`; refusals become :class:`UserInputError`s."""
    path = osp.expanduser(str(path))
    if not osp.isfile(path):
        raise UserInputError(f'checkpoint {path} does not exist.')
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise UnsafeCheckpointError(
            f'refused to load checkpoint {path}: it asks for something a '
            f'weights-only load does not allow ({_refused_global(exc)}). The '
            'file may be malicious: a pickled checkpoint can run code when it '
            'is loaded, so it was not opened that way. Delete it and use a '
            'checkpoint you trust (one this project trained, or the official '
            'weights downloaded again); if you wrote it yourself with other '
            'objects in it, save only its state_dict.') from None
    except Exception as exc:  # a text or random file fails in many ways
        raise UnreadableCheckpointError(
            f'checkpoint {path} cannot be read ({type(exc).__name__}: '
            f'{str(exc).splitlines()[0] if str(exc) else "empty"}); it is '
            'truncated or not a PyTorch file. Use a complete copy.') from None


def last_checkpoint(work_dir):
    """The checkpoint ``work_dir/last_checkpoint`` names, looked up by its
    file name inside ``work_dir`` (a run folder may be copied); None
    without a marker.

    Raises:
        UserInputError: The named checkpoint is not in ``work_dir``.
    """
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(marker):
        return None
    with open(marker, encoding='utf-8') as f:
        named = f.read().strip()
    path = osp.join(work_dir, osp.basename(named))
    if not named or not osp.isfile(path):
        raise UserInputError(
            f'{marker} names {named or "nothing"}, but {path} does not '
            'exist (a run folder uses only its own checkpoints). Copy that '
            'checkpoint into the folder, or pass --resume CHECKPOINT, or '
            'start a new run without --resume.')
    return path
