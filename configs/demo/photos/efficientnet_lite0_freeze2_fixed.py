# Fine-tune the ImageNet-pretrained EfficientNet-Lite0 on a folder of real
# photos in a few minutes on a CPU (tools/demo.py --photos): the small Lite0
# config (224 px, batch 16) with its real weights, two epochs, a short
# warm-up and a cosine decay, no step phase. The lr follows the recipe
# table in docs/lite0.md.
_base_ = ['../efficientnet_lite0_freeze2_fixed.py']

optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = dict(warmup_end=0.5, decay_end=0.5)
train_cfg = dict(max_epochs=2)

# Measuring train accuracy would cost a pass over every training photo per
# epoch; the demo skips it (interval=0).
custom_hooks = [
    dict(type='ProgressBarHook'),
    dict(type='TrainAccuracyHook', interval=0),
    dict(type='ClassNumCheckHook'),
]
