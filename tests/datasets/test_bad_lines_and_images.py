"""Annotation lines that leave the data root are refused, naming file and
line; an image that cannot be loaded stops the run before training (pre-
flight) or, with --skip-bad-images, is logged and skipped."""
import os.path as osp
import shutil

import pytest
from conftest import TINY_CONFIG, load_tool, run_log, run_main, run_runner
from mmpretrain.registry import DATASETS

from custom_modules.datasets.annotated_image_folder import BadImageError
from custom_modules.utils.errors import UserInputError

TRAIN = load_tool('tools/train.py')


@pytest.fixture
def data_copy(annotated_root, tmp_path):
    """A writable copy of the annotation files (images via the symlink)."""
    dst = tmp_path / 'data'
    shutil.copytree(annotated_root, dst, symlinks=True)
    return dst


def add_line(root, split, line):
    """Append ``line`` to ``split``.txt; return its line number."""
    path = root / f'{split}.txt'
    lines = path.read_text().splitlines() + [line]
    path.write_text('\n'.join(lines) + '\n')
    return len(lines)


def build(root, split='train', **kwargs):
    return DATASETS.build(dict(
        type='AnnotatedImageFolder', data_root=str(root),
        ann_file=f'{split}.txt', classes='classes.txt', **kwargs))


def train_args(root, tmp_path, *extra):
    return [TINY_CONFIG, '--from-scratch', '--data-root', str(root),
            '--work-dir', str(tmp_path / 'run'), *extra, '--cfg-options',
            'train_cfg.max_epochs=1', 'param_scheduler.decay_end=1']


@pytest.mark.parametrize('path', ['../../../../etc/passwd',
                                  'images/../../outside.jpg', '/etc/passwd'])
def test_paths_outside_the_data_root_are_refused(data_copy, tmp_path, path,
                                                 capsys):
    line_no = add_line(data_copy, 'train', f'{path} 0')
    where = f'{data_copy / "train.txt"}:{line_no}: image path {path!r}'
    with pytest.raises(UserInputError) as err:
        build(data_copy, pipeline=[])
    assert where in str(err.value)
    # tools/train.py stops before the run folder exists.
    code, err = run_main(TRAIN.main, train_args(data_copy, tmp_path),
                         capsys)
    assert code == 2 and where in err
    assert not (tmp_path / 'run').exists()


def test_links_inside_the_data_root_still_work(data_copy):
    # images -> the photo folder elsewhere: confined by the text of the path.
    assert osp.islink(data_copy / 'images')
    assert len(build(data_copy, pipeline=[])) > 0


def test_bad_val_image_fails_before_training(data_copy, tmp_path, capsys):
    (data_copy / 'broken.jpg').write_bytes(b'not a jpeg at all')
    line_no = add_line(data_copy, 'val', 'broken.jpg 1')
    code, err = run_main(TRAIN.main, train_args(data_copy, tmp_path),
                         capsys)
    assert code == 2
    assert f'{data_copy / "val.txt"}:{line_no}: ' \
        f'{data_copy / "broken.jpg"} is not an image' in err
    assert not (tmp_path / 'run').exists()


def test_bad_train_image_met_while_loading_names_file_and_line(data_copy):
    (data_copy / 'broken.jpg').write_bytes(b'\xff\xd8\xff\xe0 truncated')
    line_no = add_line(data_copy, 'train', 'broken.jpg 1')
    dataset = build(data_copy, pipeline=[dict(type='LoadImageFromFile')])
    with pytest.raises(BadImageError) as err:
        dataset[len(dataset) - 1]
    assert f'train.txt:{line_no}: image {data_copy}/broken.jpg cannot be ' \
        'loaded' in str(err.value)
    assert '--skip-bad-images' in str(err.value)


def test_skip_bad_images_logs_and_trains(data_copy, tmp_path, capsys):
    (data_copy / 'broken.jpg').write_bytes(b'not a jpeg at all')
    line_no = add_line(data_copy, 'train', 'broken.jpg 1')
    code, err = run_main(TRAIN.main, train_args(data_copy, tmp_path),
                         capsys)
    assert code == 2 and '--skip-bad-images' in err  # the default: stop
    run_runner(TRAIN.main, train_args(
        data_copy, tmp_path, '--skip-bad-images', '--no-validate'))
    assert 'will be skipped' in capsys.readouterr().err
    assert f'skipping {data_copy / "train.txt"}:{line_no}: image ' in \
        run_log(str(tmp_path / 'run'))
    assert osp.isfile(tmp_path / 'run' / 'epoch_1.pth')
