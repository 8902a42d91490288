# efficientnet_lite0_freeze2_fixed.py with the stem and first 3 stages frozen.
_base_ = './efficientnet_lite0_freeze2_fixed.py'

model = dict(backbone=dict(frozen_stages=3))
