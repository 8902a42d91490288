"""Opt-in for an imbalanced train.txt: a config sets ``class_balance =
'loss'`` (CrossEntropyLoss class weights) or ``'sampler'`` (every class
drawn equally often), filled in from the train split's counts."""
from collections import Counter

from custom_modules.utils.errors import UserInputError

from .preflight import read_annotations, under_root

CHOICES = ('loss', 'sampler')


def class_counts(dataset_cfg, num_classes):
    """Images per label in the dataset config's annotation file."""
    path = under_root(dataset_cfg.get('data_root', '') or '',
                      dataset_cfg['ann_file'])
    counts = Counter(label for _, _, label in read_annotations(path))
    return [counts.get(c, 0) for c in range(num_classes)]


def apply_class_balance(cfg):
    """Act on ``cfg.class_balance`` (see the module); returns the per-class
    weights (``n / (k * n_c)``, 1 for a balanced split) or ``None``."""
    mode = cfg.get('class_balance')
    if mode is None:
        return None
    if mode not in CHOICES:
        raise UserInputError(f'class_balance = {mode!r}: choose one of '
                             f'{", ".join(map(repr, CHOICES))} or leave it '
                             'unset.')
    head = cfg.model.head
    counts = class_counts(cfg.train_dataloader.dataset, head.num_classes)
    empty = [i for i, n in enumerate(counts) if not n]
    if empty:
        raise UserInputError(f'class_balance = {mode!r}: the train split has '
                             f'no image of label(s) {empty}.')
    weights = [sum(counts) / (len(counts) * n) for n in counts]
    if mode == 'loss':
        head.loss.class_weight = weights
    else:
        cfg.train_dataloader.sampler = dict(type='ClassBalancedSampler',
                                            shuffle=True)
    return weights
