# The flower data at a small scale, for the offline demo, the grid's --demo
# and the tests: batches of 16 loaded in the main process (tiny images
# decode faster than worker processes start).
_base_ = ['../../../_base_/datasets/flowers_fixed.py']

__small_loader = dict(batch_size=16, num_workers=0, persistent_workers=False)
train_dataloader = __small_loader
val_dataloader = __small_loader
test_dataloader = __small_loader
