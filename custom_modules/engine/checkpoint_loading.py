"""The one way a checkpoint file is read: ``torch.load(weights_only=True)``.

mmengine's ``CheckpointLoader`` picks a loader by the path's scheme, and the
model-zoo schemes (``torchvision://``, ``modelzoo://``, ``open-mmlab://``,
``openmmlab://``, ``mmcls://``) and ``http(s)://`` end in
``torch.hub.load_state_dict_from_url``, whose default is
``weights_only=False``: a crafted file in the hub cache runs its code.
:func:`register_checkpoint_loaders` replaces every registered scheme's loader
(through mmengine's own ``register_scheme(force=True)``) with one that
resolves the scheme to a local file (:func:`resolve_checkpoint`) and reads it
with :func:`load_checkpoint_file`. Schemes we cannot read that way (pavi,
s3, petrel) are refused with a message. A refused file gets our message,
never torch's advice to switch the protection off.
"""
import difflib
import os.path as osp
import pickle

import torch

from ..apis.errors import UserInputError


class UnsafeCheckpointError(UserInputError):
    """A checkpoint asks for code to run, or for a type we do not allow."""


class UnreadableCheckpointError(UserInputError):
    """A checkpoint file that is truncated or not a torch file at all."""


# scheme -> how its names map to URLs (or, for open-mmlab, local files).
_ZOO_SCHEMES = ('torchvision://', 'modelzoo://', 'open-mmlab://',
                'openmmlab://', 'mmcls://')
_URL_SCHEMES = ('http://', 'https://')


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
    except (RuntimeError, EOFError, ValueError, OSError) as exc:
        raise UnreadableCheckpointError(
            f'checkpoint {path} cannot be read ({type(exc).__name__}: '
            f'{str(exc).splitlines()[0] if str(exc) else "empty"}); it is '
            'truncated or not a PyTorch file. Use a complete copy.') from None


def _zoo_table(scheme):
    from mmengine.runner import checkpoint as mmckpt
    if scheme in ('torchvision://', 'modelzoo://'):
        return mmckpt.get_torchvision_models()
    if scheme == 'mmcls://':
        return mmckpt.get_mmcls_models()
    table = dict(mmckpt.get_external_models())
    for old, new in mmckpt.get_deprecated_model_names().items():
        if new in table:
            table.setdefault(old, table[new])
    return table


def zoo_source(path):
    """The URL (or local file) mmengine would read for a model-zoo name."""
    scheme = next(s for s in _ZOO_SCHEMES if path.startswith(s))
    name = path[len(scheme):]
    table = _zoo_table(scheme)
    if name not in table:
        close = difflib.get_close_matches(name, list(table), n=3)
        hint = f' Did you mean: {", ".join(scheme + c for c in close)}?' \
            if close else ''
        raise UserInputError(f'checkpoint {path}: {scheme} has no model named '
                             f'{name!r}.{hint}')
    source = table[name]
    if source.startswith(_URL_SCHEMES):
        return source
    from mmengine.runner.checkpoint import _get_mmengine_home
    return osp.join(_get_mmengine_home(), source)


def resolve_checkpoint(path, downloader=None):
    """A local file for ``path``: a file, an ``http(s)://`` URL or a model-zoo
    name (fetched once into torch's hub cache, hash in the name checked).

    Raises :class:`UserInputError` for a scheme we do not read, an unknown
    model name, a failed download or a missing file.
    """
    from ..apis.pretrained import fetch, packaged_checkpoint
    path = str(path)
    if path.startswith(_ZOO_SCHEMES):
        path = zoo_source(path)
    if path.startswith(_URL_SCHEMES):
        return fetch(path, downloader)
    if path.startswith('package://'):
        return packaged_checkpoint(path)
    if '://' in path or path.startswith(('s3:', 'petrel:')) or \
            ':s3://' in path:
        raise UserInputError(
            f'checkpoint {path}: this scheme is not supported (only local '
            f'files, http(s) URLs and {", ".join(_ZOO_SCHEMES)} names are '
            'read, always as weights only). Download the file and pass its '
            'local path.')
    if not osp.isfile(osp.expanduser(path)):
        raise UserInputError(f'checkpoint {path} does not exist.')
    return osp.expanduser(path)


def load_with_weights_only(filename, map_location=None):
    # mmengine announces the loader by its name minus 10 characters (its own
    # are ``load_from_*``): "Loads checkpoint by weights_only backend".
    checkpoint = load_checkpoint_file(resolve_checkpoint(filename),
                                      map_location)
    if str(filename).startswith('mmcls://'):
        # mmengine's own conversion for this scheme: keep backbone weights.
        from mmengine.runner.checkpoint import _process_mmcls_checkpoint
        checkpoint = _process_mmcls_checkpoint(checkpoint)
    return checkpoint


def _refuse(filename, map_location=None):
    resolve_checkpoint(filename)  # raises: the scheme is not supported


def register_checkpoint_loaders():
    """Route every mmengine checkpoint scheme through :func:`load_with_weights_only`.

    Local files, URLs and model-zoo names load as weights only; any other
    scheme mmengine knows (pavi, s3, petrel, ...) is refused. Idempotent.
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    ours = ('', *_URL_SCHEMES, *_ZOO_SCHEMES)
    CheckpointLoader.register_scheme(list(ours), load_with_weights_only,
                                     force=True)
    others = [p for p in CheckpointLoader._schemes if p not in ours]
    if others:
        CheckpointLoader.register_scheme(others, _refuse, force=True)
