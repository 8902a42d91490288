# ../resnet101_freeze3_mix.py at a small scale: 64 px, batch 16, the short
# schedule. Used by tools/demo.py, tools/run_grid.py --demo and the tests.
_base_ = [
    '../_base_/models/resnet101_in1k.py',
    './_base_/datasets/flowers_mix_small_64px.py',
    './_base_/schedules/short.py',
    '../_base_/default_runtime.py',
]

model = dict(backbone=dict(frozen_stages=3))
