"""Dataset for ImageNet-style annotation files, all relative to data_root."""
import logging
import os
import os.path as osp
import re

import mmcv
from mmengine.fileio import list_from_file
from mmengine.logging import print_log
from mmpretrain.datasets import CustomDataset
from mmpretrain.registry import DATASETS

from custom_modules.utils.errors import UserInputError

BAD_IMAGE_POLICIES = ('stop', 'skip')
REGENERATE = ('Regenerate the annotation files with python '
              'tools/dataset/make_annotations.py SRC (it checks every image).')


class BadImageError(UserInputError):
    """An image listed in an annotation file that cannot be loaded."""

    def __init__(self, message):
        # from a DataLoader worker: keep our message, not its traceback
        marker = f'{type(self).__name__}: '
        if 'Original Traceback' in message and marker in message:
            message = message.rsplit(marker, 1)[1].strip()
        super().__init__(message)


def escape_reason(path):
    """Why an annotation line's ``path`` leaves the data root, or ``None``
    (the text is checked, so a symlink in the data root still works)."""
    if osp.isabs(path) or path.startswith('~'):
        return 'is absolute'
    if osp.normpath(path).split(os.sep)[0] == '..':
        return 'climbs out of the data root with ".."'
    return None


def read_annotations(path, fix=REGENERATE, root=None):
    """Yield ``(line number, path, label)`` of each ``path label`` line of
    the annotation file ``path``; a malformed line, or with ``root`` a path
    leaving it (:func:`escape_reason`), is refused with ``fix``."""
    for line_no, line in enumerate(list_from_file(path), 1):
        if not line.strip():
            continue
        parts = line.strip().rsplit(' ', 1)
        if len(parts) != 2 or not re.fullmatch(r'-?[0-9]+', parts[1]):
            raise UserInputError(f'{path}:{line_no}: expected "relative/path.jpg '
                                 f'label", got {line!r}. {fix}')
        reason = root is not None and escape_reason(parts[0])
        if reason:
            raise UserInputError(
                f'{path}:{line_no}: image path {parts[0]!r} {reason}; every '
                f'path must stay inside the data root {root!r}. {fix}')
        yield line_no, parts[0], int(parts[1])


def loadable(path):
    """Whether mmcv can read and decode ``path`` (what the pipeline does)."""
    try:
        return mmcv.imread(path) is not None
    except Exception:  # decoders raise many types
        return False


@DATASETS.register_module()
class AnnotatedImageFolder(CustomDataset):
    """:class:`CustomDataset` with ``classes`` relative to ``data_root``,
    that refuses annotation paths leaving the data root and names the file
    and line of an image that cannot be loaded (or, with
    ``on_bad_image='skip'`` in training, logs it and takes another).

    Args:
        data_root (str): Root of ``ann_file``, ``classes`` and the images.
        classes (str | Sequence[str], optional): Class names, or a file of
            them relative to ``data_root``.
        on_bad_image (str): ``'stop'`` or ``'skip'`` (training only).
        **kwargs: As :class:`mmpretrain.datasets.CustomDataset`.
    """

    def __init__(self, data_root='', classes=None, on_bad_image='stop',
                 **kwargs):
        if on_bad_image not in BAD_IMAGE_POLICIES:
            raise UserInputError(
                f'on_bad_image={on_bad_image!r}: use one of '
                f'{", ".join(BAD_IMAGE_POLICIES)}.')
        self.on_bad_image = on_bad_image
        if isinstance(classes, str) and not osp.isabs(classes):
            classes = osp.join(data_root, classes)
        super().__init__(data_root=data_root, classes=classes, **kwargs)

    def load_data_list(self):
        if not self.ann_file or not self.with_label:
            return super().load_data_list()
        return [{'img_path': osp.join(self.img_prefix, path),
                 'gt_label': label, 'ann_line': line_no}
                for line_no, path, label in read_annotations(
                    self.ann_file, root=self.data_root)]

    def prepare_data(self, idx):
        try:
            return super().prepare_data(idx)
        except Exception as exc:
            info = self.get_data_info(idx)
            path = info.get('img_path', '')
            if loadable(path):
                raise  # not the image's fault
            where = f'{self.ann_file}:{info.get("ann_line", "?")}'
            if self.on_bad_image == 'skip' and not self.test_mode:
                print_log(f'skipping {where}: image {path} cannot be loaded '
                          f'({type(exc).__name__}: {exc})', logger='current',
                          level=logging.WARNING)
                return None  # BaseDataset fetches another sample
            raise BadImageError(
                f'{where}: image {path} cannot be loaded ({type(exc).__name__}'
                f': {exc}). Replace or remove the file and its line, or skip '
                'such images in training with --skip-bad-images '
                '(train_dataloader.dataset.on_bad_image="skip"). '
                f'{REGENERATE}') from None
