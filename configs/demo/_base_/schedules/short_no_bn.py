# The short schedule for networks without BatchNorm (VGG): from random
# weights they diverge at 1e-3, so they keep fine-tuning's lr of 1e-4.
_base_ = ['./short.py']

optim_wrapper = dict(optimizer=dict(lr=1e-4))
