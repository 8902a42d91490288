# VGG-11 from mmpretrain, initialised from the official ImageNet-1k weights.
# VGG's classifier lives in the backbone, so num_classes goes there; the
# checkpoint's 1000-way `classifier.6` does not fit and is skipped, leaving
# the new 5-way layer with the Normal init listed before the checkpoint.
# VGG flattens a 7x7 feature map: inputs must be 224 x 224.
_base_ = ['mmpretrain::_base_/models/vgg11.py']

model = dict(
    backbone=dict(
        num_classes=5,
        init_cfg=[
            dict(type='Normal', std=0.01, layer='Linear'),
            dict(
                type='Pretrained',
                checkpoint='https://download.openmmlab.com/mmclassification/'
                'v0/vgg/vgg11_batch256_imagenet_20210208-4271cd6c.pth',
                prefix='backbone'),
        ]),
    head=dict(topk=(1, )),
)
