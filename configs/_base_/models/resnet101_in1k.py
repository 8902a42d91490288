# ResNet-101 from mmpretrain, initialised from the official ImageNet-1k
# weights, with a new 5-class head.
_base_ = ['mmpretrain::_base_/models/resnet101.py']

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'resnet/resnet101_8xb32_in1k_20210831-539c63f8.pth',
            prefix='backbone')),
    head=dict(num_classes=5, topk=(1, )),
)
