"""Model-zoo schemes never reach torch.hub's ``weights_only=False`` loader.

A crafted pickle planted in the hub cache under the file name that
``torchvision://resnet18`` / ``mmcls://resnet101`` / ``open-mmlab://...``
map to must not run (no marker file) and training must stop with our
message; a genuine file under that name still loads.
"""
import os.path as osp

import pytest
import torch
from conftest import TINY_CONFIG, RunsCode, load_tool, run_main, run_runner
from mmengine.runner.checkpoint import (
    get_external_models,
    get_mmcls_models,
    get_torchvision_models,
)

from custom_modules.engine.checkpoint_loading import (
    UnsafeCheckpointError,
    load_checkpoint_file,
    resolve_checkpoint,
)
from custom_modules.utils.errors import UserInputError

TRAIN = load_tool('tools/train.py')

ZOO = {
    'torchvision://resnet18': get_torchvision_models()['resnet18'],
    'modelzoo://resnet18': get_torchvision_models()['resnet18'],
    'mmcls://resnet101': get_mmcls_models()['resnet101'],
    'open-mmlab://vgg16_caffe': get_external_models()['vgg16_caffe'],
}


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty torch hub cache of our own (TORCH_HOME)."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    folder = tmp_path / 'torch' / 'hub' / 'checkpoints'
    folder.mkdir(parents=True)
    return folder


def plant(hub, scheme, payload):
    path = hub / osp.basename(ZOO[scheme])
    torch.save(payload, path)
    return path


def train_args(tmp_path, annotated_root, *extra, options=()):
    return [TINY_CONFIG, '--data-root', annotated_root, '--work-dir',
            str(tmp_path / 'run'), '--no-validate', *extra, '--cfg-options',
            'train_cfg.max_epochs=1', 'param_scheduler.decay_end=1',
            *options]


@pytest.mark.parametrize('scheme', sorted(ZOO))
def test_planted_pickle_under_zoo_name_never_runs(scheme, hub, tmp_path,
                                                  annotated_root, capsys):
    marker = tmp_path / 'marker'
    planted = plant(hub, scheme, RunsCode(str(marker)))
    code, err = run_main(TRAIN.main, train_args(
        tmp_path, annotated_root, '--from-scratch',
        options=[f'load_from={scheme}']), capsys)
    assert not marker.exists()
    assert code == 2
    assert f'refused to load checkpoint {planted}' in err
    assert 'may be malicious' in err
    assert 'weights_only=False' not in err


@pytest.mark.parametrize('flag', ['--pretrained', 'init_cfg'])
def test_planted_pickle_as_pretrained_never_runs(flag, hub, tmp_path,
                                                 annotated_root, capsys):
    marker = tmp_path / 'marker'
    plant(hub, 'mmcls://resnet101', RunsCode(str(marker)))
    if flag == 'init_cfg':
        extra, options = (), ['model.backbone.init_cfg.checkpoint='
                              'mmcls://resnet101']
    else:
        extra, options = ('--pretrained', 'mmcls://resnet101'), ()
    code, err = run_main(TRAIN.main, train_args(
        tmp_path, annotated_root, *extra, options=options), capsys)
    assert not marker.exists()
    assert code == 2 and 'may be malicious' in err


def test_genuine_file_under_zoo_name_loads_as_weights(hub, tmp_path,
                                                      annotated_root):
    """load_from=torchvision://... reads the cached file, weights only."""
    from mmpretrain.registry import MODELS

    from custom_modules.apis.config import load_config
    model = MODELS.build(load_config(TINY_CONFIG).model)
    state = {k: torch.full_like(v, 0.5) if v.is_floating_point() else v
             for k, v in model.state_dict().items()}
    plant(hub, 'torchvision://resnet18', {'state_dict': state})
    runner = run_runner(TRAIN.main, train_args(
        tmp_path, annotated_root, '--from-scratch',
        options=['load_from=torchvision://resnet18']))
    # A frozen stage keeps exactly what was loaded.
    loaded = runner.model.state_dict()['backbone.layer1.0.conv1.weight']
    assert torch.equal(loaded, torch.full_like(loaded, 0.5))


def test_unknown_names_and_unsupported_schemes_are_named(hub):
    with pytest.raises(UserInputError, match='resnet18'):
        resolve_checkpoint('torchvision://resnet1800')
    with pytest.raises(UserInputError, match='not supported'):
        resolve_checkpoint('s3://bucket/weights.pth')


def test_offline_cache_miss_names_the_file_to_place(hub):
    def offline(url, dst):
        raise OSError('no network')
    with pytest.raises(UserInputError) as err:
        resolve_checkpoint('mmcls://resnet101', downloader=offline)
    assert str(hub / osp.basename(ZOO['mmcls://resnet101'])) in str(err.value)


def test_refusal_message_is_ours(tmp_path):
    marker = tmp_path / 'marker'
    path = tmp_path / 'evil.pth'
    torch.save(RunsCode(str(marker)), path)
    with pytest.raises(UnsafeCheckpointError) as err:
        load_checkpoint_file(path)
    assert 'exec' in str(err.value) and 'malicious' in str(err.value)
    assert 'weights_only=False' not in str(err.value)
    assert not marker.exists()
