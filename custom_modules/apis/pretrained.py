"""Resolve ``Pretrained`` init checkpoints before the Runner starts.

mmengine downloads URL checkpoints deep inside ``runner.train()`` and loads
them with ``weights_only=False``. We fetch them first (into torch's hub cache,
checking the hash in the file name), point the config at the local file, so
loading goes through ``torch.load(weights_only=True)``, and turn a failed
download into an error that names the URL and the offline option.
"""
import os
import os.path as osp
import re

import torch

from .errors import UserInputError

OFFLINE_HINT = (
    'Offline? Download the file elsewhere and pass `--pretrained '
    '/path/to/{name}` (or copy it to {cached}); to train from random weights '
    'instead, pass `--from-scratch`.')
_HASH_IN_NAME = re.compile(r'-([a-f0-9]{8,})\.pth$')


# Checkpoints made on first use from an installed package, offline: a config
# names them ``package://<name>``.
PACKAGED = {
    'package://efficientnet-lite0':
    'custom_modules.apis.model_converters.efficientnet_lite:'
    'default_lite0_checkpoint',
}


def packaged_checkpoint(name):
    """The local file of ``package://<name>``, made on first use."""
    import importlib
    if name not in PACKAGED:
        raise UserInputError(
            f'unknown checkpoint {name}; known: {", ".join(PACKAGED)}.')
    module, function = PACKAGED[name].split(':')
    return getattr(importlib.import_module(module), function)()


def is_url(path) -> bool:
    return isinstance(path, str) and path.startswith(('http://', 'https://'))


def pretrained_init_cfgs(node):
    """Yield every ``dict(type='Pretrained', ...)`` inside a model config."""
    if isinstance(node, dict):
        if node.get('type') == 'Pretrained':
            yield node
        for value in node.values():
            yield from pretrained_init_cfgs(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from pretrained_init_cfgs(value)


def _drop_pretrained(node):
    if isinstance(node, dict):
        init_cfg = node.get('init_cfg')
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
            node['init_cfg'] = None
        elif isinstance(init_cfg, list):
            kept = [c for c in init_cfg if c.get('type') != 'Pretrained']
            node['init_cfg'] = kept or None
        for value in node.values():
            _drop_pretrained(value)
    elif isinstance(node, list):
        for value in node:
            _drop_pretrained(value)


def train_from_scratch(cfg):
    """Remove every Pretrained init, falling back to each module's own."""
    _drop_pretrained(cfg.model)


def use_local_pretrained(cfg, path: str):
    """Point every Pretrained init of ``cfg.model`` at a local file (or a
    URL or model-zoo name, fetched by :func:`resolve_pretrained`)."""
    if '://' not in path and not osp.isfile(path):
        raise UserInputError(f'--pretrained {path}: no such file.')
    found = list(pretrained_init_cfgs(cfg.model))
    if not found:
        raise UserInputError(
            f'--pretrained {path}: the config has no Pretrained init_cfg to '
            'replace; set model.backbone.init_cfg instead.')
    for init_cfg in found:
        init_cfg['checkpoint'] = path if '://' in path else osp.abspath(path)


def cached_path(url: str) -> str:
    """Where torch's hub cache keeps the file of ``url``."""
    return osp.join(torch.hub.get_dir(), 'checkpoints', osp.basename(url))


def download(url: str, dst: str):
    """Download atomically (torch writes a temp file, then renames)."""
    match = _HASH_IN_NAME.search(osp.basename(url))
    torch.hub.download_url_to_file(
        url, dst, hash_prefix=match.group(1) if match else None,
        progress=True)


def fetch(url: str, downloader=None) -> str:
    """Return a local copy of ``url``, downloading it once."""
    downloader = downloader or download
    dst = cached_path(url)
    if osp.isfile(dst):
        return dst
    os.makedirs(osp.dirname(dst), exist_ok=True)
    try:
        downloader(url, dst)
    except Exception as exc:  # network errors come in many types
        hint = OFFLINE_HINT.format(name=osp.basename(url), cached=dst)
        raise UserInputError(
            f'Could not download pretrained weights from {url} '
            f'({type(exc).__name__}: {exc}). {hint}') from exc
    return dst


def _local(checkpoint, what, downloader):
    """``checkpoint`` as a local file, fetched first for a URL or model-zoo
    name; ``mmcls://`` names stay (their loader keeps backbone keys only),
    their file is fetched now so that loading needs no network."""
    from ..engine.checkpoint_loading import resolve_checkpoint
    try:
        local = resolve_checkpoint(checkpoint, downloader)
    except UserInputError as err:
        hint = '' if '--from-scratch' in str(err) else (
            ' Pass `--pretrained /path/to/file.pth`, or `--from-scratch`.')
        raise UserInputError(f'{what}: {err}{hint}') from None
    return checkpoint if str(checkpoint).startswith('mmcls://') else local


def resolve_pretrained(cfg, downloader=None):
    """Make every pretrained checkpoint and ``load_from`` a checked local file.

    Runs before the Runner is built, so a missing file, a failed download or
    an unsupported scheme stops the run before any long work starts, and no
    URL or model-zoo name is left for mmengine to hand to torch.hub.
    """
    for init_cfg in pretrained_init_cfgs(cfg.model):
        checkpoint = init_cfg.get('checkpoint')
        if checkpoint:
            init_cfg['checkpoint'] = _local(
                checkpoint, 'Pretrained init_cfg checkpoint', downloader)
    if cfg.get('load_from'):
        cfg.load_from = _local(cfg.load_from, 'load_from', downloader)
