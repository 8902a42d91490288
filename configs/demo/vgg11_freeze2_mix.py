# ../vgg11_freeze2_mix.py at a small scale: 224 px (VGG's classifier needs it),
# batch 16, the short schedule at lr 1e-4. Used by tools/demo.py, tools/run_grid.py
# --demo and the tests.
_base_ = [
    '../_base_/models/vgg11_in1k.py',
    './_base_/datasets/flowers_mix_small.py',
    './_base_/schedules/short_no_bn.py',
    '../_base_/default_runtime.py',
]

model = dict(backbone=dict(frozen_stages=2))
