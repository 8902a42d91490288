# vgg11_freeze2_fixed.py with the first 3 stages frozen.
_base_ = './vgg11_freeze2_fixed.py'

model = dict(backbone=dict(frozen_stages=3))
