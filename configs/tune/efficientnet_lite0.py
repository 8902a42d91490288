# The Lite0 freeze-2 fixed recipe with a search space for tools/tune.py:
#   python tools/tune.py configs/tune/efficientnet_lite0.py --trials 20
# Each entry names the config key it sets (see custom_modules/apis/tuning.py).
_base_ = ['../efficientnet_lite0_freeze2_fixed.py']

# Trials run NHWC (1.8x the fp32 training speed of Lite0 on a 2-core CPU,
# docs/speed.md) and skip the train-accuracy pass: more trials per budget.
custom_hooks = [
    dict(type='ProgressBarHook'),
    dict(type='TrainAccuracyHook', interval=0),
    dict(type='ClassNumCheckHook'),
    dict(type='ChannelsLastHook'),
]

tune_space = dict(
    lr=dict(type='float', low=1e-4, high=3e-3, log=True,
            key='optim_wrapper.optimizer.lr'),
    weight_decay=dict(type='float', low=1e-6, high=1e-2, log=True,
                      key='optim_wrapper.optimizer.weight_decay'),
    frozen_stages=dict(type='int', low=0, high=4,
                       key='model.backbone.frozen_stages'),
    augmentation=dict(
        type='categorical', key='train_dataloader.dataset.pipeline',
        choices=dict(fixed=_base_.train_pipeline,
                     mix=_base_.mix_train_pipeline)),
    label_smoothing=dict(
        type='categorical', key='model.head.loss',
        choices=dict(
            none=dict(type='CrossEntropyLoss', loss_weight=1.0),
            # num_classes: mmpretrain's ClassNumCheckHook checks it
            ls_0_1=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                        num_classes=_base_.model.head.num_classes,
                        loss_weight=1.0))),
    batch_size=dict(type='categorical', choices=[16, 32],
                    key='train_dataloader.batch_size'),
)
