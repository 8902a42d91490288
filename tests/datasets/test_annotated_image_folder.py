"""AnnotatedImageFolder reads classes.txt relative to data_root."""
import os.path as osp

from mmpretrain.registry import DATASETS


def test_every_file_follows_data_root(annotated_root, tmp_path, monkeypatch):
    # From another working directory, a relative 'classes.txt' would only be
    # found if it is joined with data_root.
    monkeypatch.chdir(tmp_path)
    dataset = DATASETS.build(dict(
        type='AnnotatedImageFolder', data_root=annotated_root,
        ann_file='train.txt', classes='classes.txt', pipeline=[]))
    with open(osp.join(annotated_root, 'classes.txt')) as f:
        assert list(dataset.CLASSES) == f.read().split()
    with open(osp.join(annotated_root, 'train.txt')) as f:
        assert len(dataset) == len(f.readlines())
    assert osp.isfile(dataset.get_data_info(0)['img_path'])
