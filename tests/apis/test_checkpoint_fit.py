"""test, infer and load_from refuse a checkpoint that does not fill the
config's model, naming the keys and the config, unless explicitly allowed."""
import os.path as osp

import pytest
import torch
from conftest import TINY_CONFIG, load_tool, run_main

from custom_modules.apis.checkpoint_fit import check_fit, model_state_shapes
from custom_modules.apis.config import load_config

TRAIN = load_tool('tools/train.py')
TEST = load_tool('tools/test.py')
INFER = load_tool('tools/infer.py')

DEEPER = 'model.backbone.depth=34'  # same stem and widths, more blocks


@pytest.fixture(scope='module')
def no_model_keys(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('ckpt') / 'empty.pth')
    torch.save({'meta': {'epoch': 3}, 'state_dict': {
        'optimizer.step': torch.zeros(1)}}, path)
    return path


def test_matching_checkpoint_passes(tiny_checkpoint):
    assert check_fit(load_config(TINY_CONFIG).model, tiny_checkpoint,
                     TINY_CONFIG, ('backbone', 'head')) == ([], [], [])


def test_other_depth_is_refused_by_test(tiny_checkpoint, annotated_root,
                                        capsys):
    code, err = run_main(TEST.main, [
        TINY_CONFIG, tiny_checkpoint, '--data-root', annotated_root,
        '--cfg-options', DEEPER], capsys)
    assert code == 2
    assert f'does not fit the model of config {osp.relpath(TINY_CONFIG)}' \
        in err
    # ResNet-34 has blocks layer1.2, layer2.2, ... that ResNet-18 lacks.
    assert 'backbone/head weights missing: backbone.layer1.2.' in err
    assert '--allow-partial-checkpoint' in err


def test_no_model_keys_is_refused_by_infer(no_model_keys, annotated_root,
                                           capsys):
    image = osp.join(annotated_root, 'images', 'rose')
    code, err = run_main(INFER.main, [
        TINY_CONFIG, no_model_keys, image, '--device', 'cpu'], capsys)
    assert code == 2
    wanted = len([k for k in model_state_shapes(
        load_config(TINY_CONFIG).model) if k.startswith(('backbone.',
                                                           'head.'))])
    assert f'{wanted} of its {wanted} backbone/head weights missing' in err


def test_allow_flag_lets_infer_use_what_fits(tiny_checkpoint,
                                             annotated_root):
    image = osp.join(annotated_root, 'images', 'rose')
    results = INFER.main([TINY_CONFIG, tiny_checkpoint, image, '--device',
                              'cpu', '--allow-partial-checkpoint',
                              '--cfg-options', DEEPER])
    assert results and results[0]['predictions']


def test_load_from_other_depth_is_refused_before_training(
        tiny_checkpoint, annotated_root, tmp_path, capsys):
    work_dir = tmp_path / 'run'
    code, err = run_main(TRAIN.main, [
        TINY_CONFIG, '--from-scratch', '--data-root', annotated_root,
        '--work-dir', str(work_dir), '--cfg-options', DEEPER,
        f'load_from={tiny_checkpoint}'], capsys)
    assert code == 2 and 'backbone weights missing' in err
    assert not work_dir.exists()  # stopped before the Runner
