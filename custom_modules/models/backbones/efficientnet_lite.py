"""EfficientNet-Lite0: mmpretrain's EfficientNet (B0's blocks) without
squeeze-excitation and with ReLU6 instead of Swish."""
from mmpretrain.models.backbones import EfficientNet
from mmpretrain.registry import MODELS


@MODELS.register_module()
class EfficientNetLite(EfficientNet):
    """EfficientNet-Lite backbone (``arch='lite0'``).

    The ImageNet weights (TF) expect Lite's layers and inputs normalised
    with mean 127, std 128. ``out_indices=(6, )``: the 1280-channel head.

    Args:
        arch (str): Only ``'lite0'``.
        frozen_stages (int): Freeze the stem and the first ``frozen_stages``
            stages (0 to 6), counted as ResNet's, so ``freeze2`` means the
            same for every backbone. Frozen layers stay in eval mode.
        conv_cfg, norm_cfg, act_cfg (dict, optional): ``None`` means Lite's:
            ``Conv2dAdaptivePadding`` (TF 'same' padding: symmetric padding
            shifts the logits at even sizes), BN with eps 1e-3 and momentum
            0.01, and ReLU6.
        **kwargs: As :class:`mmpretrain.models.backbones.EfficientNet`.
    """

    # B0's [kernel, channels, se_ratio, stride, expand, block] with no
    # squeeze-excitation, looked up by the arch's first letter
    layer_settings = {'l': [[[k, c, 0, s, e, b] for k, c, _, s, e, b in layer]
                            for layer in EfficientNet.layer_settings['b']]}
    # width, depth, resolution (Lite1-4 need an unscaled stem and head)
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
        self._freeze_stages()  # before an optimizer is built, as ResNet

    def _freeze_stages(self):
        if not self.frozen_stages:
            return
        for layer in self.layers[:self.frozen_stages + 1]:
            layer.eval()
            for param in layer.parameters():
                param.requires_grad = False
