# The "mix" flower data at a small scale (see flowers_fixed_small.py).
_base_ = ['../../../_base_/datasets/flowers_mix.py']

__small_loader = dict(batch_size=16, num_workers=0, persistent_workers=False)
train_dataloader = __small_loader
val_dataloader = __small_loader
test_dataloader = __small_loader
