"""Refuse a checkpoint that does not fill the model it is loaded into.

mmengine loads non-strictly and only logs missing keys, so a checkpoint of
another model would be tested on random weights. Its keys and shapes are
compared with the config's model before the Runner is built.
"""
import os.path as osp

from custom_modules.utils.errors import UserInputError

ALLOW_FLAG = '--allow-partial-checkpoint'
_SHOWN = 5


def checkpoint_state_dict(path):
    """The state dict of ``path`` (any form mmengine accepts), read through
    our one weights-only loader, ``module.`` prefixes removed."""
    # lazy: torch-free for the .onnx path of tools/infer.py
    from mmengine.runner.checkpoint import CheckpointLoader

    import custom_modules.engine  # noqa: F401  (our checkpoint loaders)
    # 'silent': the model's own loading announces the file, once.
    checkpoint = CheckpointLoader.load_checkpoint(path, map_location='cpu',
                                                  logger='silent')
    if not isinstance(checkpoint, dict):
        raise UserInputError(f'checkpoint {path} holds no state dict.')
    state = checkpoint.get('state_dict', checkpoint)
    return {k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in state.items() if hasattr(v, 'shape')}


def model_state_shapes(model_cfg):
    """Parameter and buffer shapes of the model ``model_cfg`` builds."""
    # lazy: torch-free for the .onnx path of tools/infer.py
    from mmpretrain.registry import MODELS
    model = MODELS.build(model_cfg)  # built, not initialised: fast
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def compare(expected, state, parts):
    """Missing, unexpected and other-shape keys under the ``parts`` prefixes."""
    def ours(key):
        return key.startswith(tuple(f'{p}.' for p in parts))
    missing = sorted(k for k in expected if ours(k) and k not in state)
    unexpected = sorted(k for k in state if ours(k) and k not in expected)
    reshaped = sorted(
        f'{k} {tuple(state[k].shape)} vs {expected[k]}' for k in expected
        if ours(k) and k in state and tuple(state[k].shape) != expected[k])
    return missing, unexpected, reshaped


def _listing(label, keys):
    if not keys:
        return []
    more = f', ... ({len(keys)} in all)' if len(keys) > _SHOWN else ''
    return [f'{len(keys)} {label}: {", ".join(keys[:_SHOWN])}{more}']


def check_fit(model_cfg, checkpoint, config, parts, allow_partial=False):
    """Raise :class:`UserInputError` unless ``checkpoint`` fills every
    weight of ``parts`` (e.g. ``('backbone', 'head')``) of the model of
    ``config``, with nothing extra there; returns the three key lists."""
    expected = model_state_shapes(model_cfg)
    found = compare(expected, checkpoint_state_dict(checkpoint), parts)
    if any(found) and not allow_partial:
        missing, unexpected, reshaped = found
        wanted = sum(1 for k in expected
                     if k.startswith(tuple(f'{p}.' for p in parts)))
        lines = (_listing(f'of its {wanted} {"/".join(parts)} weights missing',
                          missing)
                 + _listing('unexpected keys', unexpected)
                 + _listing('with other shapes (checkpoint vs model)',
                            reshaped))
        raise UserInputError(
            f'checkpoint {checkpoint} does not fit the model of config '
            f'{osp.relpath(config) if osp.isabs(config) else config}:\n  '
            + '\n  '.join(lines) + '\nIt was probably trained with another '
            'config (depth, width or number of classes). Use the config it '
            f'was trained with, or pass {ALLOW_FLAG} to load what fits and '
            'leave the rest as initialised.')
    return found
