# The photos demo's config (./efficientnet_lite0_freeze2_fixed.py) plus
# RandomDegrade after loading, as configs/efficientnet_lite0_freeze2_robust.py
# adds it to the full config: the pair to compare with
# tools/analysis/robustness.py on the same photos, seed and epochs.
_base_ = ['./efficientnet_lite0_freeze2_fixed.py']

train_pipeline = [
    _base_.train_pipeline[0],
    dict(type='RandomDegrade', prob=0.5,
         shifts=('low_res', 'jpeg', 'gaussian_blur', 'squash'),
         max_severity=5, num_ops=1),
    *_base_.train_pipeline[1:],
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
