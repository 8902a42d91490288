"""Accuracy on the training split, which mmengine does not log."""
import copy
import numbers

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmengine.runner.amp import autocast
from mmpretrain.registry import DATASETS, HOOKS


def stratified_subset(labels, size, seed):
    """Sorted indices of ``size`` items, each class in proportion to its
    share (largest remainders), drawn per class from ``seed``."""
    labels = np.asarray(labels)
    if size >= len(labels):
        return list(range(len(labels)))
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * size / len(labels)
    quota = np.floor(exact).astype(int)
    leftover = size - quota.sum()
    quota[np.argsort(-(exact - quota), kind='stable')[:leftover]] += 1
    chosen = []
    for cls, k in zip(classes, quota):
        members = np.flatnonzero(labels == cls)
        rng = np.random.default_rng([seed, int(cls)])
        chosen += members[rng.permutation(len(members))[:k]].tolist()
    return sorted(chosen)


@HOOKS.register_module()
class TrainAccuracyHook(Hook):
    """After each validation, evaluate training images as validation does
    (test pipeline, val metrics) and log them as ``train_*``: the gap to
    val is then overfitting, not augmentation.

    Args:
        ann_file (str, optional): Training annotation file, relative to the
            train dataset's ``data_root``. Defaults to the train loader's.
        interval (int): Evaluate every ``interval`` validations; 0 disables.
        subset (str | int | float): ``'val'`` (a stratified subset as
            large as the val split), ``'all'``, a count or a fraction.
        seed (int, optional): Seed of the subset. Defaults to the run's.
    """

    priority = 'NORMAL'  # after RuntimeInfoHook, before LoggerHook

    def __init__(self, ann_file=None, interval=1, subset='val', seed=None):
        valid = (subset in ('val', 'all')
                 or (isinstance(subset, numbers.Integral)
                     and not isinstance(subset, bool) and subset > 0)
                 or (isinstance(subset, float) and 0 < subset <= 1))
        if not valid:
            raise ValueError(
                f"TrainAccuracyHook: subset={subset!r}; use 'val', 'all', "
                'a number of images > 0 or a fraction in (0, 1]')
        self.ann_file = ann_file
        self.interval = interval
        self.subset = subset
        self.seed = seed
        self._count = 0
        self._loader = None
        self._evaluator = None

    def build_dataset(self, runner):
        """The training images (test pipeline) this hook evaluates."""
        cfg = runner.cfg
        dataset_cfg = copy.deepcopy(cfg.val_dataloader['dataset'])
        train_dataset = cfg.train_dataloader['dataset']
        dataset_cfg['ann_file'] = self.ann_file or train_dataset['ann_file']
        dataset_cfg['data_root'] = train_dataset.get(
            'data_root', dataset_cfg.get('data_root', ''))
        dataset = DATASETS.build(dataset_cfg)
        size = total = len(dataset)
        if self.subset == 'val':
            size = len(runner.val_loop.dataloader.dataset)
        elif isinstance(self.subset, float):
            size = max(1, round(self.subset * total))
        elif self.subset != 'all':
            size = self.subset
        if size < total:
            seed = runner.seed if self.seed is None else self.seed
            dataset = dataset.get_subset(stratified_subset(
                dataset.get_gt_labels(), size, seed))
            runner.logger.info(
                f'TrainAccuracyHook: {size} of {total} training images, '
                f'class-stratified (seed {seed}); subset=\'all\' for every '
                'image.')
        return dataset

    def after_val_epoch(self, runner, metrics=None):
        if not self.interval or not runner.cfg.get('train_dataloader'):
            return  # a standalone validation has no training split
        self._count += 1
        if self._count % self.interval:
            return
        if self._loader is None:  # built once, at the first evaluation
            loader_cfg = copy.deepcopy(runner.cfg.val_dataloader)
            loader_cfg['dataset'] = self.build_dataset(runner)
            self._loader = Runner.build_dataloader(loader_cfg, runner.seed)
            self._evaluator = runner.build_evaluator(
                copy.deepcopy(runner.cfg.val_evaluator))
            for metric in self._evaluator.metrics:
                if hasattr(metric, 'plot'):  # plots are drawn for val only
                    metric.plot = False
            self._evaluator.dataset_meta = self._loader.dataset.metainfo
        model = runner.model
        was_training = model.training
        model.eval()
        fp16 = getattr(runner.val_loop, 'fp16', False)
        with torch.no_grad(), autocast(enabled=fp16):
            for data_batch in self._loader:
                outputs = model.val_step(data_batch)
                self._evaluator.process(data_samples=outputs,
                                        data_batch=data_batch)
        results = self._evaluator.evaluate(len(self._loader.dataset))
        model.train(was_training)
        for key, value in results.items():
            runner.message_hub.update_scalar(f'val/train_{key}', value)
        runner.message_hub.update_scalar('val/train_images',
                                         len(self._loader.dataset))
