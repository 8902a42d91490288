"""Bad data settings stop before training, naming the path and the fix."""
import os.path as osp
import shutil

import pytest
from conftest import ROOT
from mmengine.config import Config

from custom_modules.apis.config import load_config, set_data_root
from custom_modules.apis.preflight import check_data
from custom_modules.utils.errors import UserInputError


@pytest.fixture
def data_copy(annotated_root, tmp_path):
    """A writable copy of the annotation files (images via the symlink)."""
    dst = tmp_path / 'data'
    shutil.copytree(annotated_root, dst, symlinks=True)
    return dst


def cfg_for(root):
    cfg = Config.fromfile(osp.join(ROOT, 'configs',
                                   'resnet101_freeze2_fixed.py'))
    set_data_root(cfg, str(root))
    return cfg


def test_good_data_passes(data_copy):
    check_data(cfg_for(data_copy))


def test_missing_data_root(tmp_path):
    with pytest.raises(UserInputError) as err:
        check_data(cfg_for(tmp_path / 'absent'))
    assert str(tmp_path / 'absent') in str(err.value)
    assert 'tools/dataset/make_annotations.py' in str(err.value)


def test_missing_annotation_file(data_copy):
    (data_copy / 'val.txt').unlink()
    with pytest.raises(UserInputError, match=r'val annotation file .*val\.txt'
                       r' does not exist'):
        check_data(cfg_for(data_copy))


def test_classes_count_differs_from_num_classes(data_copy):
    with open(data_copy / 'classes.txt', 'a') as f:
        f.write('orchid\n')
    with pytest.raises(UserInputError) as err:
        check_data(cfg_for(data_copy))
    assert 'lists 6 classes' in str(err.value)
    assert 'num_classes=5' in str(err.value)


def test_label_out_of_range_names_file_and_line(data_copy):
    lines = (data_copy / 'train.txt').read_text().splitlines()
    lines[2] = lines[2].rsplit(' ', 1)[0] + ' 7'
    (data_copy / 'train.txt').write_text('\n'.join(lines) + '\n')
    with pytest.raises(UserInputError, match=r'train\.txt:3: label 7 is out '
                       r'of range for 5 classes'):
        check_data(cfg_for(data_copy))


def test_missing_config_suggests_the_closest(tmp_path):
    with pytest.raises(UserInputError) as err:
        load_config(osp.join(ROOT, 'configs', 'resnet101_freeze2_mixx.py'))
    assert 'resnet101_freeze2_mixx.py does not exist' in str(err.value)
    assert 'resnet101_freeze2_mix.py' in str(err.value)


def test_class_count_error_names_every_num_classes_key(data_copy):
    """The fast recipe's label-smoothing loss has its own num_classes: the
    error lists it beside the head's and the preprocessor's, and setting
    exactly those keys makes the data check pass."""
    lines = (data_copy / 'classes.txt').read_text().splitlines()
    (data_copy / 'classes.txt').write_text('\n'.join(lines + ['orchid']) + '\n')
    config = osp.join(ROOT, 'configs/demo/photos/efficientnet_lite0_fast.py')
    cfg = load_config(config)
    set_data_root(cfg, str(data_copy))
    with pytest.raises(UserInputError) as err:
        check_data(cfg)
    options = str(err.value).split('--cfg-options ')[1].split()
    assert sorted(options) == [
        'model.data_preprocessor.num_classes=6',
        'model.head.loss.num_classes=6', 'model.head.num_classes=6']
    fixed = load_config(config, {o.split('=')[0]: 6 for o in options})
    set_data_root(fixed, str(data_copy))
    check_data(fixed)
