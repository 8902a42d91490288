# The photos demo's config with the "mix" augmentation (RandAugment and
# RandomErasing after the crop and flip): the third of the fixed / mix /
# robust trio that tools/analysis/robustness.py compares on the same photos,
# seed and epochs (docs/robustness.md).
_base_ = ['./efficientnet_lite0_freeze2_fixed.py']

train_pipeline = _base_.mix_train_pipeline
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
