"""Checks before the Runner is built: bad input fails in seconds, naming
the file, line or value at fault and the command that fixes it."""
import math
import os
import os.path as osp
import sys

from PIL import Image, UnidentifiedImageError

from custom_modules.datasets.annotated_image_folder import (
    read_annotations as parse_annotations,
)
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import IMAGE_EXTENSIONS, read_classes


def _is_photo_tree(root):
    """Whether a sub-folder of ``root`` holds images (a photo tree)."""
    try:
        folders = [e.path for e in os.scandir(root) if e.is_dir()]
        return any(name.lower().endswith(IMAGE_EXTENSIONS)
                   for folder in folders for name in os.listdir(folder))
    except OSError:
        return False


def fix_command(root):
    """The command that writes the annotation files ``root`` lacks (outside
    ``root`` when it is itself a photo tree)."""
    if not (root and _is_photo_tree(root)):
        return ('python tools/dataset/make_annotations.py /path/to/flower_photos '
                f'--out-dir {root or "data/flower_dataset"}')
    out = osp.join('data', osp.basename(osp.abspath(root)))
    real_root, real_out = osp.realpath(root), osp.realpath(out)
    if real_out == real_root or real_out.startswith(real_root + os.sep):
        out = osp.abspath(root) + '_annotations'
    return (f'python tools/dataset/make_annotations.py {root} --out-dir '
            f'{out} --split 8:1:1 and pass --data-root {out}, or train on '
            f'the folder as it is: python tools/train.py CONFIG --data-folder '
            f'{root}')


def model_num_classes(model_cfg):
    """Classes the model predicts: VGG keeps its classifier in the backbone."""
    backbone = model_cfg.get('backbone') or {}
    if backbone.get('num_classes', -1) > 0:
        return backbone['num_classes']
    return (model_cfg.get('head') or {}).get('num_classes')


def num_classes_keys(cfg):
    """Dotted keys of every ``num_classes`` the model config sets (head,
    loss, data preprocessor, VGG's backbone): all must match classes.txt."""
    keys = []

    def walk(node, prefix):
        items = node.items() if isinstance(node, dict) else enumerate(
            node if isinstance(node, (list, tuple)) else ())
        for name, value in items:
            key = f'{prefix}.{name}'
            if name == 'num_classes' and (value is None or isinstance(
                    value, int) and value > 0):
                keys.append(key)
            else:
                walk(value, key)

    model = cfg.get('model') or {}
    walk(model, 'model')
    # the top-level preprocessor counts only where the model has none
    if 'data_preprocessor' not in model and 'num_classes' in (
            cfg.get('data_preprocessor') or {}):
        keys.append('data_preprocessor.num_classes')
    return keys


def under_root(root, path):
    """``path`` joined to ``root`` unless absolute (as mmpretrain does)."""
    return path if osp.isabs(path) else osp.join(root, path)


def read_annotations(path, root=None):
    """:func:`parse_annotations` of ``path`` (paths checked to stay in
    ``root``, if given), naming the command that fixes it."""
    return parse_annotations(path, 'Regenerate the file with '
                             f'{fix_command(osp.dirname(path))}', root)


def header_problem(path):
    """What is wrong with the image file ``path`` by its header, or
    ``None`` (``PIL.Image.verify``: milliseconds, no decoding)."""
    try:
        with Image.open(path) as img:
            img.verify()
    except FileNotFoundError:
        return 'does not exist'
    except UnidentifiedImageError:
        return 'is not an image'
    except (OSError, SyntaxError, ValueError) as exc:
        return f'is damaged ({exc})'
    return None


def _report_bad_images(split, bad, policy, fix, shown=10):
    listing = '\n  '.join(bad[:shown]) + (
        f'\n  ... {len(bad) - shown} more' if len(bad) > shown else '')
    if policy == 'skip' and split == 'train':
        print(f'warning: {len(bad)} {split} images cannot be loaded and will '
              f'be skipped (on_bad_image="skip"):\n  {listing}',
              file=sys.stderr)
        return
    skip = (' or skip them in training with --skip-bad-images'
            if split == 'train' else '')
    raise UserInputError(
        f'{len(bad)} {split} images cannot be loaded:\n  {listing}\nReplace '
        f'or remove them and their lines{skip}; regenerate the annotation '
        f'files (every image checked) with\n  {fix}')


def check_dataset(split, dataset_cfg, num_classes, keys=('model.head.num_classes', )):
    """Check one dataloader's dataset: folders, files, classes and labels;
    ``keys`` are the config keys to name when the class count differs."""
    root = dataset_cfg.get('data_root', '') or ''
    fix = fix_command(root)
    if root and not osp.isdir(root):
        raise UserInputError(
            f'{split} data root {root} does not exist. Create it with\n  '
            f'{fix}\nor point the config at your data with --data-root DIR.')
    ann_file = dataset_cfg.get('ann_file')
    if not ann_file:
        return
    ann_path = under_root(root, ann_file)
    classes = dataset_cfg.get('classes')
    classes_path = under_root(root, classes) if isinstance(classes, str) else None
    for what, path in ((f'{split} annotation file', ann_path),
                       ('classes file', classes_path)):
        if path and not osp.isfile(path):
            raise UserInputError(
                f'{what} {path} does not exist. Create it with\n  {fix}')
    if classes_path:
        classes = read_classes(classes_path)
        if num_classes is not None and len(classes) != num_classes:
            raise UserInputError(
                f'{classes_path} lists {len(classes)} classes but the model '
                f'predicts num_classes={num_classes}. Set each num_classes '
                'of the config to match: --cfg-options '
                + ' '.join(f'{key}={len(classes)}' for key in keys))
    limit = num_classes if num_classes is not None else (
        len(classes) if classes else None)
    prefix = dataset_cfg.get('data_prefix', '') or ''
    if isinstance(prefix, dict):
        prefix = prefix.get('img_path', '') or ''
    image_root = under_root(root, prefix)
    count, bad = 0, []
    regenerate = f'Regenerate the annotation files with\n  {fix}'
    for line_no, rel_path, label in read_annotations(ann_path, root):
        count += 1
        where, image = f'{ann_path}:{line_no}', osp.join(image_root, rel_path)
        if limit is not None and not 0 <= label < limit:
            raise UserInputError(
                f'{where}: label {label} is out of range for {limit} classes '
                f'(valid: 0..{limit - 1}). {regenerate}')
        if count == 1 and not osp.exists(image):
            raise UserInputError(
                f'{where}: image {image} does not exist; paths must be '
                f'relative to the data root {root!r}. {regenerate}')
        problem = header_problem(image)
        if problem:
            bad.append(f'{where}: {image} {problem}')
    if bad:
        _report_bad_images(split, bad, dataset_cfg.get('on_bad_image'), fix)
    if count == 0:
        raise UserInputError(f'{split} annotation file {ann_path} is empty. '
                             f'Regenerate it with\n  {fix}')


def check_schedule(cfg):
    """Warm-up / step / cosine phases must fit into ``max_epochs``."""
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    max_epochs = (cfg.get('train_cfg') or {}).get('max_epochs')
    for i, scheduler in enumerate(schedulers):
        if not str(scheduler.get('type', '')).startswith('WarmupStepCosine'):
            continue
        key = 'param_scheduler' if len(schedulers) == 1 else \
            f'param_scheduler.{i}'
        end = scheduler.get('end', max_epochs)
        bounds = dict(begin=scheduler.get('begin', 0),
                      warmup_end=scheduler.get('warmup_end', 10),
                      decay_end=scheduler.get('decay_end', 20), end=end)
        values = list(bounds.values())
        if None not in values and values != sorted(values):
            got = ', '.join(f'{k}={v}' for k, v in bounds.items())
            raise UserInputError(
                f'{key}: the phases must satisfy begin <= warmup_end <= '
                f'decay_end <= end (end = train_cfg.max_epochs unless set), '
                f'got {got}. Shorten them with, e.g., --cfg-options '
                f'{key}.warmup_end={max(end // 4, 0)} '
                f'{key}.decay_end={max(end // 2, 0)}')


def check_data(cfg, splits=('train', 'val')):
    """Run :func:`check_dataset` on each ``{split}_dataloader`` in ``cfg``."""
    for split in splits:
        if cfg.get(f'{split}_dataloader'):
            check_dataset(split, cfg[f'{split}_dataloader']['dataset'],
                          model_num_classes(cfg.model), num_classes_keys(cfg))


def _positive(value, integer):
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if integer:
        return number and value == int(value) and value >= 1
    return number and math.isfinite(value) and value > 0


def check_values(cfg, splits=('train', 'val')):
    """Refuse numbers the Runner divides or loops by that are unusable.

    Args:
        cfg (Config): The config to run.
        splits (tuple[str]): The dataloaders it will build.
    """
    train_cfg = cfg.get('train_cfg') or {}
    checks = [(f'{s}_dataloader.batch_size',
               (cfg.get(f'{s}_dataloader') or {}).get('batch_size'), True)
              for s in splits if cfg.get(f'{s}_dataloader')]
    if 'train' in splits:
        checks += [('train_cfg.max_epochs', train_cfg.get('max_epochs'), True),
                   ('train_cfg.val_interval', train_cfg.get('val_interval', 1),
                    True),
                   ('optim_wrapper.optimizer.lr', ((cfg.get('optim_wrapper')
                    or {}).get('optimizer') or {}).get('lr'), False)]
    for key, value, integer in checks:
        if value is not None and not _positive(value, integer):
            kind = 'a whole number >= 1' if integer else 'a finite number > 0'
            raise UserInputError(
                f'{key}={value!r}: must be {kind}. Fix it in the config or '
                f'with --cfg-options {key}=...')
