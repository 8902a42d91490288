# ResNet-152 from mmpretrain, initialised from the official ImageNet-1k
# weights, with a new 5-class head.
_base_ = ['mmpretrain::_base_/models/resnet152.py']

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'resnet/resnet152_8xb32_in1k_20210901-4d7582fa.pth',
            prefix='backbone')),
    head=dict(num_classes=5, topk=(1, )),
)
