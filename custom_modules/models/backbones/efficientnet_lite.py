"""EfficientNet-Lite0: mmpretrain's EfficientNet with a Lite arch.

Lite is EfficientNet-B0's block layout without squeeze-excitation and with
ReLU6 instead of Swish. Extending mmpretrain's backbone keeps its blocks,
``out_indices``, ``norm_eval`` and ``with_cp``.
"""
from mmpretrain.models.backbones import EfficientNet
from mmpretrain.registry import MODELS


def _without_se(layer_setting):
    """B0's layout with every squeeze-excitation ratio set to 0 (none)."""
    return [[[kernel, channels, 0, stride, expand, block_type]
             for kernel, channels, _, stride, expand, block_type in layer]
            for layer in layer_setting]


@MODELS.register_module()
class EfficientNetLite(EfficientNet):
    """EfficientNet-Lite backbone (``arch='lite0'``).

    The ImageNet weights were trained in TF with Lite's layers (the ``None``
    defaults below) on inputs normalised with mean 127 and std 128.
    ``layers`` is the stem, five block stages and the 1x1 head conv; the
    default ``out_indices=(6, )`` gives the 1280-channel features.

    Args:
        arch (str): Only ``'lite0'``.
        frozen_stages (int): Freeze the stem and the first ``frozen_stages``
            stages (0 to 6; 6 is the head conv), counted as mmpretrain's
            ResNet counts (its EfficientNet counts the stem as a stage), so
            ``freeze2`` means the same for every backbone of the study.
            Frozen layers stay in eval mode in ``train()``.
        conv_cfg, norm_cfg, act_cfg (dict, optional): ``None`` means Lite's:
            ``Conv2dAdaptivePadding`` (TF 'same' padding: symmetric padding
            shifts the logits at even sizes), BN with eps 1e-3 and momentum
            0.01, and ReLU6.
        **kwargs: As :class:`mmpretrain.models.backbones.EfficientNet`.
    """

    # The parent looks the layout up by the arch's first letter.
    layer_settings = {'l': _without_se(EfficientNet.layer_settings['b'])}
    # Width factor, depth factor, resolution. Lite1-4 would also need the
    # stem and head left unscaled, which the parent's scaling does not do.
    arch_settings = {'lite0': (1.0, 1.0, 224)}
    num_stages = len(layer_settings['l']) - 1

    def __init__(self,
                 arch='lite0',
                 frozen_stages=0,
                 conv_cfg=None,
                 norm_cfg=None,
                 act_cfg=None,
                 **kwargs):
        if frozen_stages not in range(self.num_stages + 1):
            raise ValueError(f'frozen_stages must be in range(0, '
                             f'{self.num_stages + 1}), got {frozen_stages}')
        super().__init__(
            arch=arch, frozen_stages=frozen_stages,
            conv_cfg=conv_cfg or dict(type='Conv2dAdaptivePadding'),
            norm_cfg=norm_cfg or dict(type='BN', eps=1e-3, momentum=0.01),
            act_cfg=act_cfg or dict(type='ReLU6'), **kwargs)
        # The parent freezes only in train(); freeze before an optimizer
        # is built too, as ResNet does.
        self._freeze_stages()

    def _freeze_stages(self):
        if not self.frozen_stages:
            return
        for layer in self.layers[:self.frozen_stages + 1]:
            layer.eval()
            for param in layer.parameters():
                param.requires_grad = False
