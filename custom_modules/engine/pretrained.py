"""Resolve ``Pretrained`` init checkpoints before the Runner starts, rather
than deep inside ``runner.train()`` as mmengine does."""
import os.path as osp

from custom_modules.utils.errors import UserInputError

from .checkpoint_loading import resolve_checkpoint


def _dicts(node):
    """Every dict in a config tree, parents first."""
    if isinstance(node, dict):
        yield node
        node = list(node.values())
    if isinstance(node, (list, tuple)):
        for value in node:
            yield from _dicts(value)


def pretrained_init_cfgs(node):
    """Yield every ``dict(type='Pretrained', ...)`` inside a model config."""
    return (d for d in _dicts(node) if d.get('type') == 'Pretrained')


def train_from_scratch(cfg):
    """Remove every Pretrained init, falling back to each module's own."""
    for node in _dicts(cfg.model):
        init_cfg = node.get('init_cfg')
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
            node['init_cfg'] = None
        elif isinstance(init_cfg, list):
            kept = [c for c in init_cfg if c.get('type') != 'Pretrained']
            node['init_cfg'] = kept or None


def use_local_pretrained(cfg, path: str):
    """Point every Pretrained init of ``cfg.model`` at ``path``.

    Args:
        cfg (Config): The run's config, changed in place.
        path (str): A local file, or a URL or model-zoo name that
            :func:`resolve_pretrained` fetches.
    """
    if '://' not in path and not osp.isfile(path):
        raise UserInputError(f'--pretrained {path}: no such file.')
    found = list(pretrained_init_cfgs(cfg.model))
    if not found:
        raise UserInputError(
            f'--pretrained {path}: the config has no Pretrained init_cfg to '
            'replace; set model.backbone.init_cfg instead.')
    for init_cfg in found:
        init_cfg['checkpoint'] = path if '://' in path else osp.abspath(path)


def _local(checkpoint, what, downloader):
    """``checkpoint`` fetched as a local file (``mmcls://`` names stay)."""
    try:
        local = resolve_checkpoint(checkpoint, downloader)
    except UserInputError as err:
        hint = '' if '--from-scratch' in str(err) else (
            ' Pass `--pretrained /path/to/file.pth`, or `--from-scratch`.')
        raise UserInputError(f'{what}: {err}{hint}') from None
    return checkpoint if str(checkpoint).startswith('mmcls://') else local


def resolve_pretrained(cfg, downloader=None):
    """Make every pretrained checkpoint and ``load_from`` a checked local
    file, before the Runner is built.

    Args:
        cfg (Config): The run's config, changed in place.
        downloader (callable, optional): ``downloader(url, dst)``.
    """
    for init_cfg in pretrained_init_cfgs(cfg.model):
        checkpoint = init_cfg.get('checkpoint')
        if checkpoint:
            init_cfg['checkpoint'] = _local(
                checkpoint, 'Pretrained init_cfg checkpoint', downloader)
    if cfg.get('load_from'):
        cfg.load_from = _local(cfg.load_from, 'load_from', downloader)
