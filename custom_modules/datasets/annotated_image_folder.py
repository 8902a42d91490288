"""Dataset for ImageNet-style annotation files, all relative to data_root."""
import os.path as osp

from mmpretrain.datasets import CustomDataset
from mmpretrain.registry import DATASETS


@DATASETS.register_module()
class AnnotatedImageFolder(CustomDataset):
    """:class:`CustomDataset` whose ``classes`` file is relative to data_root.

    mmpretrain joins ``ann_file`` with ``data_root`` but reads ``classes``
    as given. Joining both means that moving the data (one ``data_root``
    override) moves every file the config reads.
    """

    def __init__(self, data_root='', classes=None, **kwargs):
        if isinstance(classes, str) and not osp.isabs(classes):
            classes = osp.join(data_root, classes)
        super().__init__(data_root=data_root, classes=classes, **kwargs)
