"""Hooks that add what mmengine does not log by default."""
import copy

import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class TrainAccuracyHook(Hook):
    """Log accuracy on the training split, measured like validation.

    After each validation, the model is evaluated on the training images
    with the *test* pipeline (no augmentation) and the validation metrics,
    and every metric is logged with a ``train_`` prefix next to the
    validation ones (``train_accuracy/top1`` beside ``accuracy/top1``). Train
    and val numbers of an epoch then come from the same weights, pipeline and
    metric, so their gap is overfitting, not augmentation.

    Args:
        ann_file: Training annotation file, relative to the train
            dataset's ``data_root``. Defaults to the train dataloader's.
        interval: Evaluate every ``interval`` validations; 0 disables.
    """

    priority = 'NORMAL'  # after RuntimeInfoHook, before LoggerHook

    def __init__(self, ann_file=None, interval=1):
        self.ann_file = ann_file
        self.interval = interval
        self._count = 0
        self._loader = None
        self._evaluator = None

    def _build(self, runner):
        cfg = runner.cfg
        loader_cfg = copy.deepcopy(cfg.val_dataloader)
        train_dataset = cfg.train_dataloader['dataset']
        loader_cfg['dataset']['ann_file'] = (
            self.ann_file or train_dataset['ann_file'])
        loader_cfg['dataset']['data_root'] = train_dataset.get(
            'data_root', loader_cfg['dataset'].get('data_root', ''))
        self._loader = Runner.build_dataloader(loader_cfg, seed=runner.seed)
        self._evaluator = runner.build_evaluator(
            copy.deepcopy(cfg.val_evaluator))
        for metric in self._evaluator.metrics:
            if hasattr(metric, 'plot'):  # plots are drawn for val only
                metric.plot = False
        self._evaluator.dataset_meta = self._loader.dataset.metainfo

    def after_val_epoch(self, runner, metrics=None):
        if not self.interval or not runner.cfg.get('train_dataloader'):
            return  # a standalone validation has no training split
        self._count += 1
        if self._count % self.interval:
            return
        if self._loader is None:
            self._build(runner)
        model = runner.model
        was_training = model.training
        model.eval()
        with torch.no_grad():
            for data_batch in self._loader:
                outputs = model.val_step(data_batch)
                self._evaluator.process(data_samples=outputs,
                                        data_batch=data_batch)
        results = self._evaluator.evaluate(len(self._loader.dataset))
        model.train(was_training)
        for key, value in results.items():
            runner.message_hub.update_scalar(f'val/train_{key}', value)
