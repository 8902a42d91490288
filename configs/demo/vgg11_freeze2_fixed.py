# ../vgg11_freeze2_fixed.py at a small scale: 224 px (VGG's classifier needs
# it), batch 16, the short schedule. Used by tools/demo.py, tools/run_grid.py
# --demo and the tests.
_base_ = [
    '../_base_/models/vgg11_in1k.py',
    './_base_/datasets/flowers_fixed_small.py',
    './_base_/schedules/short.py',
    '../_base_/default_runtime.py',
]

model = dict(backbone=dict(frozen_stages=2))
# Without BatchNorm, VGG diverges at the short schedule's lr of 1e-3 from
# random weights: it keeps fine-tuning's 1e-4.
optim_wrapper = dict(optimizer=dict(lr=1e-4))
