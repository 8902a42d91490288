"""The opt-in class_balance switch: weights from train.txt into the loss, or
a sampler that draws every class equally often."""
import os
import os.path as osp
from collections import Counter

import pytest
from mmengine.config import Config
from mmpretrain.registry import DATA_SAMPLERS

from custom_modules.apis.class_balance import apply_class_balance
from custom_modules.datasets.annotations import make_annotations
from custom_modules.datasets.synthetic_flowers import CLASSES, make_dataset
from custom_modules.utils.errors import UserInputError


@pytest.fixture(scope='module')
def imbalanced(tmp_path_factory):
    """daisy 20 photos, every other class 4: 5:1."""
    root = tmp_path_factory.mktemp('imbalanced') / 'flowers'
    make_dataset(str(root), per_class=20, size=16, seed=2)
    for c in CLASSES[1:]:
        for name in sorted(os.listdir(root / c))[4:]:
            os.remove(root / c / name)
    out = root.parent / 'ann'
    make_annotations(str(root), str(out), split='3:1', workers=1,
                     progress=False)
    return str(out)


def config(data_root, mode):
    dataset = dict(type='AnnotatedImageFolder', data_root=data_root,
                   ann_file='train.txt', classes='classes.txt', pipeline=[])
    return Config(dict(
        class_balance=mode,
        model=dict(head=dict(num_classes=5, loss=dict(
            type='CrossEntropyLoss'))),
        train_dataloader=dict(dataset=dataset, sampler=dict(
            type='DefaultSampler', shuffle=True))))


def test_unset_changes_nothing(imbalanced):
    cfg = config(imbalanced, None)
    assert apply_class_balance(cfg) is None
    assert 'class_weight' not in cfg.model.head.loss


def test_loss_weights_from_train_txt(imbalanced):
    cfg = config(imbalanced, 'loss')
    weights = apply_class_balance(cfg)
    counts = Counter(int(line.split()[-1]) for line in open(
        osp.join(imbalanced, 'train.txt')))
    assert counts[0] == 15 and counts[1] == 3
    assert cfg.model.head.loss.class_weight == weights
    assert weights[0] * counts[0] == pytest.approx(weights[1] * counts[1])


def test_sampler_draws_classes_equally(imbalanced):
    from mmpretrain.registry import DATASETS

    import custom_modules.datasets  # noqa: F401  registers the dataset
    cfg = config(imbalanced, 'sampler')
    apply_class_balance(cfg)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    sampler = DATA_SAMPLERS.build(dict(cfg.train_dataloader.sampler,
                                       dataset=dataset, seed=0))
    drawn = Counter()
    for epoch in range(40):
        sampler.set_epoch(epoch)
        drawn.update(dataset.get_gt_labels()[i] for i in sampler)
    assert sum(drawn.values()) == 40 * len(dataset)
    assert max(drawn.values()) / min(drawn.values()) < 1.5  # was 5:1


def test_unknown_mode_is_refused(imbalanced):
    with pytest.raises(UserInputError, match="'loss', 'sampler'"):
        apply_class_balance(config(imbalanced, 'weights'))
