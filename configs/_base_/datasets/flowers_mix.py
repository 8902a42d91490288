# The flower data with "mix" augmentation (defined in flowers_fixed.py).
_base_ = ['./flowers_fixed.py']

train_pipeline = _base_.mix_train_pipeline
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
