# The fine-tuning recipe measured on the real photos with real ImageNet
# features (docs/lite0.md, the recipe table): Adam at lr 1e-3,
# half an epoch of warm-up from lr / 10, then cosine to the end, no step
# phase, 2 epochs. Slower starts (lr 1e-4 with a 10-epoch warm-up) were far
# behind after an epoch. For a longer run raise `train_cfg.max_epochs`: the
# cosine stretches with it.
_base_ = ['./adam_warmup_step_cosine.py']

optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = dict(warmup_end=0.5, decay_end=0.5)
train_cfg = dict(max_epochs=2)
