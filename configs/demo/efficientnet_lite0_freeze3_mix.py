# ../efficientnet_lite0_freeze3_mix.py at a small scale: 224 px, batch 16, the
# short schedule. Used by tools/run_grid.py --demo (from scratch) and, with
# its ImageNet weights, by tools/demo.py --photos (configs/demo/photos/).
_base_ = [
    '../_base_/models/efficientnet_lite0_in1k.py',
    './_base_/datasets/flowers_mix_small.py',
    './_base_/schedules/short.py',
    '../_base_/default_runtime.py',
]

model = dict(backbone=dict(frozen_stages=3))
