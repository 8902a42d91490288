# efficientnet_lite0_freeze2_fixed.py plus a degradation of half the
# training photos (one of: down to 24-96 px and back up, JPEG quality
# 10-50, Gaussian blur, squash to a square or beyond), so that the model
# also learns from photos like users' own: small, blurry, recompressed,
# squashed. tools/analysis/robustness.py measures the effect.
_base_ = ['./efficientnet_lite0_freeze2_fixed.py']

train_pipeline = [
    _base_.train_pipeline[0],
    dict(type='RandomDegrade', prob=0.5,
         shifts=('low_res', 'jpeg', 'gaussian_blur', 'squash'),
         max_severity=5, num_ops=1),
    *_base_.train_pipeline[1:],
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
