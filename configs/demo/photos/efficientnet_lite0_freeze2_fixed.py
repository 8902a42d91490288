# Fine-tune the ImageNet-pretrained EfficientNet-Lite0 on a folder of real
# photos in minutes on a CPU (tools/demo.py --photos): the small Lite0 config
# with its real weights and the schedule of adam_finetune_pretrained.py.
_base_ = ['../efficientnet_lite0_freeze2_fixed.py']

optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = dict(warmup_end=0.5, decay_end=0.5)
train_cfg = dict(max_epochs=2)

# No train accuracy: it would cost a pass over the training photos per epoch.
custom_hooks = [
    dict(type='ProgressBarHook'),
    dict(type='TrainAccuracyHook', interval=0),
    dict(type='ClassNumCheckHook'),
]
