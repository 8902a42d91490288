"""A full disk while make_annotations writes names the file and the free
space, and leaves no half-made set (issue 20, item 11)."""
import errno
import os

import pytest

from custom_modules.datasets.annotations import make_annotations, write
from custom_modules.utils.errors import UserInputError


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, 'No space left on device')


def test_full_disk_copying_images(synthetic_root, tmp_path, monkeypatch):
    monkeypatch.setattr(write.shutil, 'copy2', _no_space)
    out = tmp_path / 'set'
    with pytest.raises(UserInputError) as error:
        make_annotations(synthetic_root, str(out), layout='copy', workers=1,
                         progress=False)
    message = str(error.value)
    assert 'no space left' in message and 'MiB free' in message
    assert str(out / 'train') in message
    assert os.listdir(out) == []  # no staging folder, no annotation file


def test_full_disk_writing_a_list(synthetic_root, tmp_path, monkeypatch):
    monkeypatch.setattr('custom_modules.utils.fileio.replace_durably',
                        _no_space)
    out = tmp_path / 'set'
    with pytest.raises(UserInputError) as error:
        make_annotations(synthetic_root, str(out), workers=1, progress=False)
    assert 'classes.txt' in str(error.value) and 'MiB free' in str(error.value)
    assert not list(out.glob('.*'))  # no temp file left
