# A candidate for a faster photos demo (tools/demo.py --photos keeps
# efficientnet_lite0_freeze2_fixed.py until it is measured on a quiet
# machine; see docs/speed.md, "A fast fine-tune recipe"). Every lever works
# in fp32, so the recipe does not depend on bf16 (add --amp where the CPU
# has it):
# - train at 176 px, test at 224 px (the "FixRes" effect: a random resized
#   crop magnifies objects, so a larger test crop sees them at the size the
#   network learned them): about 0.6x the pixels per training step;
# - each JPEG decoded once per run (CachedLoadImageFromFile; the loaders run
#   in the main process, so the cache lives for the whole run), shrunk on
#   load to a short side of 256 for training;
# - the stem and first 3 stages frozen (no backward through them);
# - batch 32, a higher peak lr, a one-cycle-like schedule (short warm-up,
#   cosine to zero) over 2 epochs;
# - channels_last (ChannelsLastHook).
# The test pipeline stays the plain one export_onnx.py reproduces.
_base_ = ['./efficientnet_lite0_freeze2_fixed.py']

model = dict(backbone=dict(frozen_stages=3))

__cached = dict(type='CachedLoadImageFromFile', cache_mb=1536)
train_pipeline = [
    dict(__cached, max_short_side=256),
    dict(type='RandomResizedCrop', scale=176),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
val_pipeline = [
    __cached,
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=32, dataset=dict(pipeline=val_pipeline))

optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = dict(warmup_end=0.25, decay_end=0.25, start_factor=0.1,
                       eta_min=0.0)
train_cfg = dict(max_epochs=2)

custom_hooks = [
    dict(type='ProgressBarHook'),
    dict(type='TrainAccuracyHook', interval=0),
    dict(type='ClassNumCheckHook'),
    dict(type='ChannelsLastHook'),
]
