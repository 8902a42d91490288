# configs/demo/resnet101_freeze2_fixed.py with a slim ResNet-18 stand-in and 2 epochs:
# the same data, pipeline, schedule and hooks, small enough for CPU tests.
_base_ = ['../../../configs/demo/resnet101_freeze2_fixed.py']

# A quarter of ResNet-18's width: checkpoints of a few MB, not 100.
model = dict(
    backbone=dict(depth=18, stem_channels=16, base_channels=16),
    head=dict(in_channels=128))
train_cfg = dict(max_epochs=2)
