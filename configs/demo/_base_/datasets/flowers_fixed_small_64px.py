# The small flower data at 64 px instead of 224 (ResNets only: VGG's
# classifier needs 224). Each size is set on the transform of that name, so a
# transform added to the real pipeline cannot shift it.
_base_ = ['./flowers_fixed_small.py']

image_size = 64
__sizes = dict(
    RandomResizedCrop=dict(scale=image_size),
    ResizeEdge=dict(scale=image_size * 256 // 224),  # as 256 is to 224
    CenterCrop=dict(crop_size=image_size))


def __resized(pipeline):
    return [dict(t, **__sizes.get(t['type'], {})) for t in pipeline]


train_pipeline = __resized(_base_.train_pipeline)
mix_train_pipeline = __resized(_base_.mix_train_pipeline)
test_pipeline = __resized(_base_.test_pipeline)
tta_pipeline = __resized(_base_.tta_pipeline)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
