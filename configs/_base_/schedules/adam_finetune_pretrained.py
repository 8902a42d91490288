# The fine-tuning recipe measured on the real photos with real ImageNet
# features (docs/lite0.md): lr 1e-3, half an epoch of warm-up from lr / 10,
# then cosine, no step phase, 2 epochs (lr 1e-4 with a 10-epoch warm-up was
# far behind after an epoch). A larger `train_cfg.max_epochs` stretches the
# cosine.
_base_ = ['./adam_warmup_step_cosine.py']

optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = dict(warmup_end=0.5, decay_end=0.5)
train_cfg = dict(max_epochs=2)
