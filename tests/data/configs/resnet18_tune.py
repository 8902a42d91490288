# The ResNet-18 stand-in, one epoch, with a search space for tools/tune.py.
_base_ = ['./resnet18_freeze2_fixed.py']

train_cfg = dict(max_epochs=1)
param_scheduler = dict(warmup_end=0, decay_end=1)
tune_space = dict(
    lr=dict(type='float', low=1e-4, high=3e-3, log=True,
            key='optim_wrapper.optimizer.lr'),
    weight_decay=dict(type='float', low=1e-5, high=1e-2, log=True,
                      key='optim_wrapper.optimizer.weight_decay'),
    frozen_stages=dict(type='int', low=1, high=2,
                       key='model.backbone.frozen_stages'),
    label_smoothing=dict(
        type='categorical', key='model.head.loss',
        choices=dict(none=dict(type='CrossEntropyLoss', loss_weight=1.0),
                     ls_0_1=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                                 loss_weight=1.0))),
    batch_size=dict(type='categorical', choices=[8, 16],
                    key='train_dataloader.batch_size'),
)
