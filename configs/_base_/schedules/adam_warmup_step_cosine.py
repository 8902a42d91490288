# Adam with gradient accumulation and the warm-up / step / cosine schedule.
# mmpretrain's ImageNet schedule is inherited and its SGD and MultiStepLR are
# replaced (`_delete_=True`), so none of their keys leak into Adam.
_base_ = ['mmpretrain::_base_/schedules/imagenet_bs256.py']

optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='Adam', lr=1e-4, weight_decay=1e-4),
    # Two batches of 32 per update: an effective batch of 64.
    accumulative_counts=2,
)

param_scheduler = dict(
    _delete_=True,
    type='WarmupStepCosineLR',
    start_factor=0.1,  # warm-up starts at lr / 10
    warmup_end=10,     # ... and reaches lr at epoch 10
    decay_end=20,      # step decay until epoch 20
    step_size=5,       # one decay every 5 epochs
    gamma=0.5,
    eta_min=1e-6,      # cosine from epoch 20 to max_epochs
    by_epoch=True,
    convert_to_iter_based=True,  # smooth per-iteration updates
    # `end` is left out: the Runner sets it to train_cfg.max_epochs.
)

train_cfg = dict(by_epoch=True, max_epochs=40, val_interval=1)

# Linear scaling with --auto-scale-lr, relative to one process's batch of 32
# (mmengine compares processes x batch_size, leaving accumulation out, which
# every process keeps: N processes give N x the lr for N x the images).
auto_scale_lr = dict(base_batch_size=32)
