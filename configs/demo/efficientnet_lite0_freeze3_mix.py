# efficientnet_lite0_freeze2_mix.py with the stem and first 3 stages frozen.
_base_ = './efficientnet_lite0_freeze2_mix.py'

model = dict(backbone=dict(frozen_stages=3))
