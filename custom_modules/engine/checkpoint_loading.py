"""mmengine's checkpoint schemes, read weights-only: its model-zoo and
``http(s)://`` loaders end in ``weights_only=False``, so
:func:`register_checkpoint_loaders` replaces every scheme's loader with one
that fetches a local file and reads it with ``load_checkpoint_file``.
"""
import difflib
import os
import os.path as osp
import re

import torch
from mmengine.runner import checkpoint as mmckpt

from custom_modules.models.converters.efficientnet_lite0_weights import (
    default_lite0_checkpoint,
)
from custom_modules.utils.checkpoint import (  # noqa: F401  (re-exported)
    UnreadableCheckpointError,
    UnsafeCheckpointError,
    load_checkpoint_file,
)
from custom_modules.utils.errors import UserInputError

_ZOO_SCHEMES = ('torchvision://', 'modelzoo://', 'open-mmlab://',
                'openmmlab://', 'mmcls://')
_URL_SCHEMES = ('http://', 'https://')
_HASH_IN_NAME = re.compile(r'-([a-f0-9]{8,})\.pth$')
# Checkpoints made offline on first use from an installed package.
PACKAGED = {'package://efficientnet-lite0': default_lite0_checkpoint}


def is_url(path) -> bool:
    return isinstance(path, str) and path.startswith(_URL_SCHEMES)


def cached_path(url: str) -> str:
    """Where torch's hub cache keeps the file of ``url``."""
    return osp.join(torch.hub.get_dir(), 'checkpoints', osp.basename(url))


def download(url: str, dst: str):
    """Download atomically, checking the hash prefix in the file name."""
    match = _HASH_IN_NAME.search(osp.basename(url))
    torch.hub.download_url_to_file(url, dst, match[1] if match else None)


def fetch(url: str, downloader=None) -> str:
    """Return a local copy of ``url``, downloading it once."""
    dst = cached_path(url)
    if osp.isfile(dst):
        return dst
    os.makedirs(osp.dirname(dst), exist_ok=True)
    try:
        (downloader or download)(url, dst)
    except Exception as exc:  # network errors come in many types
        raise UserInputError(
            f'Could not download pretrained weights from {url} '
            f'({type(exc).__name__}: {exc}). Offline? Download the file '
            f'elsewhere and pass `--pretrained /path/to/{osp.basename(url)}` '
            f'(or copy it to {dst}); to train from random weights instead, '
            'pass `--from-scratch`.') from exc
    return dst


def zoo_source(path):
    """The URL (or local file) mmengine would read for a model-zoo name."""
    scheme = next(s for s in _ZOO_SCHEMES if path.startswith(s))
    name = path[len(scheme):]
    if scheme in ('torchvision://', 'modelzoo://'):
        table = mmckpt.get_torchvision_models()
    elif scheme == 'mmcls://':
        table = mmckpt.get_mmcls_models()
    else:  # open-mmlab:// also knows mmengine's deprecated names
        table = mmckpt.get_external_models()
        for old, new in mmckpt.get_deprecated_model_names().items():
            if new in table:
                table.setdefault(old, table[new])
    if name not in table:
        close = difflib.get_close_matches(name, list(table), n=3)
        hint = f' Did you mean: {", ".join(scheme + c for c in close)}?'
        raise UserInputError(f'checkpoint {path}: {scheme} has no model named '
                             f'{name!r}.{hint if close else ""}')
    source = table[name]
    return source if is_url(source) else osp.join(
        mmckpt._get_mmengine_home(), source)


def resolve_checkpoint(path, downloader=None):
    """A local file for ``path``.

    Args:
        path (str): A file, an ``http(s)://`` URL, a model-zoo name (both
            fetched once into torch's hub cache) or a ``package://`` name.
        downloader (callable, optional): ``downloader(url, dst)``.

    Raises:
        UserInputError: For a scheme we do not read, an unknown model name,
            a failed download or a missing file.
    """
    path = str(path)
    if path.startswith(_ZOO_SCHEMES):
        path = zoo_source(path)
    if path.startswith(_URL_SCHEMES):
        return fetch(path, downloader)
    if path.startswith('package://'):
        if path not in PACKAGED:
            raise UserInputError(
                f'unknown checkpoint {path}; known: {", ".join(PACKAGED)}.')
        return PACKAGED[path]()
    if '://' in path or path.startswith(('s3:', 'petrel:')):
        raise UserInputError(
            f'checkpoint {path}: this scheme is not supported (only local '
            f'files, http(s) URLs and {", ".join(_ZOO_SCHEMES)} names are '
            'read, always as weights only). Download the file and pass its '
            'local path.')
    if not osp.isfile(osp.expanduser(path)):
        raise UserInputError(f'checkpoint {path} does not exist.')
    return osp.expanduser(path)


def load_with_weights_only(filename, map_location=None):
    """Read ``filename`` as weights only, or refuse its scheme."""
    checkpoint = load_checkpoint_file(resolve_checkpoint(filename),
                                      map_location)
    if str(filename).startswith('mmcls://'):
        # mmengine's own conversion for this scheme: keep backbone weights.
        checkpoint = mmckpt._process_mmcls_checkpoint(checkpoint)
    return checkpoint


def register_checkpoint_loaders():
    """Route every mmengine checkpoint scheme through
    :func:`load_with_weights_only`, which refuses those it cannot read that
    way; idempotent."""
    schemes = {'', *_URL_SCHEMES, *_ZOO_SCHEMES,
               *mmckpt.CheckpointLoader._schemes}
    mmckpt.CheckpointLoader.register_scheme(sorted(schemes),
                                            load_with_weights_only, force=True)
