"""TrainAccuracyHook's fixed, class-stratified subset of the training split."""
import collections
import logging
from types import SimpleNamespace

import pytest
from conftest import TINY_CONFIG

from custom_modules.apis.config import load_config, set_data_root
from custom_modules.engine.hooks import TrainAccuracyHook
from custom_modules.engine.hooks.train_accuracy_hook import stratified_subset


def fake_runner(annotated_root, seed=42, val_size=20):
    """What the hook reads from the Runner to pick its images."""
    cfg = load_config(TINY_CONFIG)
    set_data_root(cfg, annotated_root)
    val = SimpleNamespace(dataloader=SimpleNamespace(
        dataset=range(val_size)))
    return SimpleNamespace(cfg=cfg, seed=seed, val_loop=val,
                           logger=logging.getLogger('test'))


def picked(dataset):
    return [dataset.get_data_info(i)['img_path']
            for i in range(len(dataset))]


def test_subset_is_stratified_and_sized_like_val(annotated_root):
    hook = TrainAccuracyHook()
    full = TrainAccuracyHook(subset='all').build_dataset(
        fake_runner(annotated_root))
    subset = hook.build_dataset(fake_runner(annotated_root, val_size=20))
    assert len(subset) == 20 < len(full)
    assert set(picked(subset)) < set(picked(full))
    # Each class gets its share of the training split, to within one image.
    share = collections.Counter(full.get_gt_labels().tolist())
    got = collections.Counter(subset.get_gt_labels().tolist())
    for label, count in share.items():
        assert abs(got[label] - count * 20 / len(full)) < 1


def test_subset_is_the_same_for_the_same_seed_only(annotated_root):
    def images(seed):
        hook = TrainAccuracyHook(subset=0.5)
        return picked(hook.build_dataset(fake_runner(annotated_root, seed)))

    assert images(42) == images(42)  # two builds, as two runs do
    assert images(42) != images(7)
    assert len(images(42)) == 40  # half of the 80 training images


def test_all_keeps_every_training_image_in_file_order(annotated_root):
    dataset = TrainAccuracyHook(subset='all').build_dataset(
        fake_runner(annotated_root))
    with open(f'{annotated_root}/train.txt') as f:
        lines = [line.split()[0] for line in f]
    assert [p[len(annotated_root) + 1:] for p in picked(dataset)] == lines


def test_stratified_subset_allocates_by_largest_remainder():
    labels = [0] * 50 + [1] * 30 + [2] * 20
    chosen = stratified_subset(labels, 11, seed=0)
    counts = collections.Counter(labels[i] for i in chosen)
    assert counts == {0: 6, 1: 3, 2: 2}  # 5.5, 3.3, 2.2: the .5 gets it
    assert chosen == sorted(set(chosen))
    assert stratified_subset(labels, 500, seed=0) == list(range(100))


@pytest.mark.parametrize('subset', [0, -3, 1.5, 'some', True])
def test_bad_subset_is_refused(subset):
    with pytest.raises(ValueError, match='subset='):
        TrainAccuracyHook(subset=subset)
