# resnet152_freeze2_fixed.py with "mix" augmentation instead.
_base_ = './resnet152_freeze2_fixed.py'

train_pipeline = _base_.mix_train_pipeline
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
