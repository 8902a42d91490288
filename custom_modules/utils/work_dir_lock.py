"""One training process per work dir: an ``flock`` on ``train.lock``
(holding the owner's pid), which the kernel releases however the owner
dies. The file stays: deleting it would let a waiting opener lock a file
no one else sees.
"""
import fcntl
import os
import os.path as osp

from .errors import UserInputError

LOCK_NAME = 'train.lock'
_held = {}  # absolute work dir -> the open, locked file


def lock_work_dir(work_dir):
    """Hold ``work_dir`` for this process until :func:`release_work_dirs`
    or exit; a second live process is refused with its pid named."""
    key = osp.abspath(work_dir)
    if key in _held:
        return
    os.makedirs(key, exist_ok=True)
    path = osp.join(key, LOCK_NAME)
    f = open(path, 'a+', encoding='utf-8')
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        owner = f.read().strip() or 'unknown'
        f.close()
        raise UserInputError(
            f'{work_dir} is in use by another training process (pid '
            f'{owner}, see {path}). Wait for it to finish or stop it, or '
            'train in another --work-dir.') from None
    f.seek(0)
    f.truncate()
    f.write(f'{os.getpid()}\n')
    f.flush()
    _held[key] = f


def release_work_dirs():
    """Release every work dir this process holds."""
    while _held:
        _, f = _held.popitem()
        fcntl.flock(f, fcntl.LOCK_UN)
        f.close()
