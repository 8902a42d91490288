# efficientnet_lite0, ImageNet-pretrained (offline), stem and first 3 stages
# frozen, "mix" augmentation.
_base_ = [
    './_base_/models/efficientnet_lite0_in1k.py',
    './_base_/datasets/flowers_mix.py',
    './_base_/schedules/adam_finetune_pretrained.py',
    './_base_/default_runtime.py',
]

model = dict(backbone=dict(frozen_stages=3))
