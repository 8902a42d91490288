"""Every way our tools load a checkpoint goes through torch.load with
weights_only=True.

mmengine hands URL checkpoints to ``torch.hub.load_state_dict_from_url``,
whose default is ``weights_only=False``; the tools pre-fetch URLs for that
reason. This test records every ``torch.load`` on each path we use (train
init from a URL and from a local file, ``--resume``, ``load_from``, test,
inference) and fails if one of them loads with ``weights_only=False`` or
reaches torch.hub's loader, so an upgrade of mmengine or torch cannot
silently open a hole.
"""
import os.path as osp
import shutil

import pytest
import torch
from conftest import TINY_CONFIG, load_tool

from custom_modules.apis.config import load_config
from custom_modules.engine import checkpoint_loading

TRAIN = load_tool('tools/train.py')
TEST = load_tool('tools/test.py')
INFER = load_tool('tools/infer.py')


@pytest.fixture
def loads(monkeypatch):
    """Record (file, effective weights_only) for every torch.load."""
    calls = []
    original = torch.load

    def recording_load(f, *args, weights_only=None, **kwargs):
        effective = weights_only
        if effective is None:  # torch's own default for this call
            effective = torch.serialization._default_to_weights_only(
                kwargs.get('pickle_module'))
        calls.append((osp.basename(str(f)), effective))
        return original(f, *args, weights_only=weights_only, **kwargs)

    def refuse_hub(url, *args, **kwargs):
        calls.append((f'torch.hub:{url}', kwargs.get('weights_only', False)))
        raise AssertionError(f'{url} reached torch.hub\'s loader')

    monkeypatch.setattr(torch, 'load', recording_load)
    monkeypatch.setattr(torch.hub, 'load_state_dict_from_url', refuse_hub)
    return calls


def test_every_loading_path_is_weights_only(loads, annotated_root, tmp_path,
                                            monkeypatch):
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    official = tmp_path / 'official.pth'
    torch.save({'state_dict': {
        'backbone.conv1.weight': torch.zeros(64, 3, 7, 7)}},
               official)
    monkeypatch.setattr(checkpoint_loading, "download",
                        lambda url, dst: shutil.copy(official, dst))
    short = ['train_cfg.max_epochs=1', 'param_scheduler.decay_end=1']

    def train(name, *extra, options=()):
        work_dir = str(tmp_path / name)
        TRAIN.main([TINY_CONFIG, '--data-root', annotated_root,
                       '--work-dir', work_dir, '--no-validate', *extra,
                       '--cfg-options', *short, *options,
                       f'experiment_name={name}'])
        return work_dir

    url_run = train('from_url')  # the config's URL, pre-fetched
    url_file = osp.basename(
        load_config(TINY_CONFIG).model.backbone.init_cfg.checkpoint)
    train('from_local', '--pretrained', str(official))
    checkpoint = osp.join(url_run, 'epoch_1.pth')
    train('resumed', '--from-scratch', '--resume', checkpoint,
          options=['train_cfg.max_epochs=2', 'param_scheduler.decay_end=2'])
    train('load_from', '--from-scratch', options=[f'load_from={checkpoint}'])
    TEST.main([TINY_CONFIG, checkpoint, '--data-root', annotated_root,
                  '--work-dir', str(tmp_path / 'test'), '--cfg-options',
                  'experiment_name=test'])
    INFER.main([TINY_CONFIG, checkpoint, '--device', 'cpu',
                    osp.join(annotated_root, 'images', 'rose')])

    loaded = [name for name, _ in loads]
    # Each path loaded its file: URL init, local init, resume, load_from,
    # test and inference.
    assert loaded.count(url_file) == 1
    assert loaded.count('official.pth') == 1
    assert loaded.count('epoch_1.pth') >= 4
    assert [c for c in loads if c[1] is not True] == []
