"""Build a trained classifier from its config and checkpoint: the one way
every tool (test, infer, export, CAMs, the web app) gets its model."""
import os.path as osp

from mmengine.config import Config

from custom_modules.engine.checkpoint_loading import load_checkpoint_file
from custom_modules.engine.pretrained import train_from_scratch
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import read_classes

from .checkpoint_fit import check_fit
from .config import load_config
from .preflight import under_root


def checked_config(config, checkpoint, cfg_options=None, allow_partial=False):
    """The config to build ``checkpoint``'s model from, checked to fit.

    Args:
        config (str | Config): A config file or a loaded config.
        checkpoint (str): The trained checkpoint; it holds every weight, so
            the config's pretrained inits are dropped.
        cfg_options (dict, optional): ``--cfg-options`` overrides.
        allow_partial (bool): Accept a checkpoint that does not fill every
            backbone and head weight.

    Returns:
        Config: the loaded config.
    """
    if not osp.isfile(checkpoint):
        raise UserInputError(f'checkpoint {checkpoint} does not exist.')
    cfg = config if isinstance(config, Config) else load_config(
        config, cfg_options)
    train_from_scratch(cfg)
    check_fit(cfg.model, checkpoint, getattr(cfg, 'filename', None) or config,
              ('backbone', 'head'), allow_partial)
    return cfg


def load_model(config, checkpoint, device='cpu', cfg_options=None,
               allow_partial=False):
    """A trained classifier in eval mode, its config attached as ``.cfg``.

    Args:
        config (str | Config): A config file or a loaded config.
        checkpoint (str): The trained checkpoint (read weights-only).
        device (str): Where the model goes.
        cfg_options (dict, optional): ``--cfg-options`` overrides.
        allow_partial (bool): See :func:`checked_config`.

    Returns:
        torch.nn.Module: mmpretrain's ``ImageClassifier``; its
        ``dataset_meta`` holds the checkpoint's class names, if any.
    """
    from mmpretrain.apis import get_model  # lazy: imports every model
    cfg = checked_config(config, checkpoint, cfg_options, allow_partial)
    return get_model(cfg, pretrained=checkpoint, device=device).eval()


def model_classes(model=None, checkpoint=None, cfg=None):
    """Class names in label order, from the first source that has them.

    Args:
        model (torch.nn.Module, optional): A model from :func:`load_model`
            (its ``dataset_meta``).
        checkpoint (str, optional): A checkpoint's ``meta``.
        cfg (Config, optional): The config's ``classes.txt`` under its
            data root.

    Returns:
        list[str]: The names, or ``[]`` when no source has them.
    """
    if model is not None:
        meta = (getattr(model, '_dataset_meta', None)
                or getattr(model, 'dataset_meta', None) or {})
        if meta.get('classes'):
            return list(meta['classes'])
    if checkpoint is not None:
        meta = load_checkpoint_file(checkpoint).get('meta') or {}
        classes = (meta.get('dataset_meta') or {}).get('classes')
        if classes:
            return list(classes)
    if cfg is not None:
        dataset = (cfg.train_dataloader if cfg.get('train_dataloader')
                   else cfg.val_dataloader).dataset
        path = under_root(dataset.get('data_root', '') or '',
                          dataset.get('classes') or 'classes.txt')
        if osp.isfile(path):
            return read_classes(path)
    return []
