# Flower photos from ImageNet-style annotation files, "fixed" augmentation:
# every training image gets the same two operations, a random resized crop
# to 224 and a horizontal flip with probability 0.5.
dataset_type = 'AnnotatedImageFolder'
data_root = 'data/flower_dataset/'

data_preprocessor = dict(
    num_classes=5,
    mean=[123.675, 116.28, 103.53],  # ImageNet statistics, RGB
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]

# The "mix" augmentation (flowers_mix.py selects it): the same crop and flip,
# then RandAugment (2 of 15 colour/geometric operations per image, random
# magnitude around 9/10) and RandomErasing (a random rectangle filled with
# noise, for a quarter of the images).
bgr_mean = [103.53, 116.28, 123.675]
bgr_std = [57.375, 57.12, 58.395]
mix_train_pipeline = [
    *train_pipeline[:-1],
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.5,
        hparams=dict(pad_val=[round(x) for x in bgr_mean])),
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=bgr_mean,
        fill_std=bgr_std),
    dict(type='PackInputs'),
]

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]

# Test-time augmentation for `tools/test.py --tta`: average over a flip.
tta_model = dict(type='AverageClsScoreTTA')
tta_pipeline = [
    *test_pipeline[:-1],
    dict(
        type='TestTimeAug',
        transforms=[[
            dict(type='RandomFlip', prob=0.),
            dict(type='RandomFlip', prob=1.),
        ], [dict(type='PackInputs')]]),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='train.txt',
        classes='classes.txt',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)

# An imbalanced train.txt (the dataset doctor reports the ratio)? Opt in:
# 'loss' weights CrossEntropyLoss by n / (k * n_class) from train.txt,
# 'sampler' draws every class equally often (docs/doctor.md).
class_balance = None

val_dataloader = dict(
    train_dataloader,
    dataset=dict(train_dataloader['dataset'], ann_file='val.txt',
                 pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)

# Top-1 accuracy (top-5 is meaningless with 5 classes), macro precision /
# recall / F1 over the classes, and calibration: ECE (15 bins, %), NLL and
# Brier score, with a reliability diagram per evaluation in vis_data/.
val_evaluator = [
    dict(type='Accuracy', topk=(1, )),
    dict(type='SingleLabelMetric', average='macro'),
    dict(type='CalibrationMetric'),
]

# The untouched test split (make_annotations.py --split 8:1:1). Val picks
# the best epoch, so its accuracy is optimistic; tools/test.py falls back
# to val.txt, saying so, when the data root has no test.txt.
test_dataloader = dict(
    val_dataloader, dataset=dict(val_dataloader['dataset'],
                                 ann_file='test.txt'))
test_evaluator = val_evaluator
