# The warm-up / step / cosine schedule shrunk to a few epochs from random
# weights: a 10x larger lr than fine-tuning's (nothing pretrained to keep),
# one batch per update, one epoch of warm-up and one of step decay.
_base_ = ['../../../_base_/schedules/adam_warmup_step_cosine.py']

optim_wrapper = dict(optimizer=dict(lr=1e-3), accumulative_counts=1)
param_scheduler = dict(warmup_end=1, decay_end=2, step_size=1)
train_cfg = dict(max_epochs=8)

# --auto-scale-lr: the lr above is for one process with the demo loaders'
# batch of 16; N processes multiply it by N.
auto_scale_lr = dict(base_batch_size=16)
