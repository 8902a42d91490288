"""Pretrained weights: local files, explicit scratch, clear download errors."""
import os.path as osp
import urllib.error

import pytest
import torch
from conftest import ROOT
from mmengine.config import Config

from custom_modules.engine.checkpoint_loading import cached_path, fetch
from custom_modules.engine.pretrained import (
    pretrained_init_cfgs,
    resolve_pretrained,
    train_from_scratch,
    use_local_pretrained,
)
from custom_modules.utils.errors import UserInputError

URL = ('https://download.openmmlab.com/mmclassification/v0/resnet/'
       'resnet101_8xb32_in1k_20210831-539c63f8.pth')


@pytest.fixture
def cfg():
    return Config.fromfile(osp.join(ROOT, 'configs',
                                    'resnet101_freeze2_mix.py'))


@pytest.fixture(autouse=True)
def hub_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    return tmp_path / 'hub'


def offline(url, dst):
    raise urllib.error.URLError('[Errno -3] Temporary failure in name '
                                'resolution')


def test_failed_download_names_url_and_offline_options(cfg):
    with pytest.raises(UserInputError) as err:
        resolve_pretrained(cfg, downloader=offline)
    text = str(err.value)
    assert URL in text
    assert '--pretrained' in text and '--from-scratch' in text
    assert cached_path(URL) in text


def test_download_goes_to_cache_and_config_points_at_it(cfg):
    calls = []

    def fake_download(url, dst):
        calls.append(url)
        torch.save({'state_dict': {}}, dst)

    resolve_pretrained(cfg, downloader=fake_download)
    (init_cfg, ) = pretrained_init_cfgs(cfg.model)
    assert init_cfg['checkpoint'] == cached_path(URL)
    assert osp.isfile(init_cfg['checkpoint'])
    # Second time: served from the cache, no download.
    assert fetch(URL, downloader=offline) == cached_path(URL)
    assert calls == [URL]


def test_local_file_replaces_url(cfg, tmp_path):
    local = tmp_path / 'r101.pth'
    torch.save({'state_dict': {}}, local)
    use_local_pretrained(cfg, str(local))
    resolve_pretrained(cfg, downloader=offline)  # nothing to download
    assert [c['checkpoint'] for c in pretrained_init_cfgs(cfg.model)] == [
        str(local)]


def test_missing_local_file_is_named(cfg, tmp_path):
    with pytest.raises(UserInputError, match='nope.pth: no such file'):
        use_local_pretrained(cfg, str(tmp_path / 'nope.pth'))


def test_from_scratch_removes_only_pretrained_init():
    vgg = Config.fromfile(osp.join(ROOT, 'configs', 'vgg11_freeze2_fixed.py'))
    train_from_scratch(vgg)
    assert vgg.model.backbone.init_cfg == [
        dict(type='Normal', std=0.01, layer='Linear')]
    assert not list(pretrained_init_cfgs(vgg.model))
