"""Write result files atomically, never replacing one without being asked."""
import errno
import hashlib
import json
import os
import os.path as osp
import shutil
import tempfile

from .errors import UserInputError

# What the tools take as an image file (by name; contents are checked later).
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff',
                    '.webp', '.ppm', '.pgm')


def check_new(path, force=False):
    """Refuse to replace ``path`` unless ``force``, or a ``path`` that
    cannot be written (:func:`check_writable`)."""
    if osp.exists(path) and not force:
        raise UserInputError(f'{path} exists; pass --force to replace it, or '
                             'choose another output path.')
    check_writable(path)


def check_writable(path, what='output', folder=False):
    """Refuse, before any long work, an output file ``path`` (or folder)
    that cannot be written; returns ``path``."""
    existing = osp.abspath(path if folder else osp.dirname(osp.abspath(path)))
    while not osp.exists(existing):
        existing = osp.dirname(existing)
    if not osp.isdir(existing):
        raise UserInputError(
            f'{what} {path}: {existing} is a file, not a folder; choose a '
            'path outside it.')
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserInputError(
            f'{what} {path}: {existing} is not writable (read-only or no '
            'permission); choose a writable location.')
    return path


def no_space_error(path, exc):
    """A UserInputError naming ``path`` and the free space, for ENOSPC."""
    folder = osp.dirname(osp.abspath(path))
    while not osp.isdir(folder) and folder != osp.dirname(folder):
        folder = osp.dirname(folder)  # the file's folder may not exist yet
    try:
        free = f'{shutil.disk_usage(folder).free / 2**20:.1f} MiB free'
    except OSError:
        free = 'free space unknown'
    return UserInputError(f'no space left on the device writing {path} '
                          f'({free} in {folder}); free some space or choose '
                          'another location.')


def replace_durably(tmp, path):
    """Rename ``tmp`` to ``path`` (same folder), fsynced: after a crash
    ``path`` is the old file or the complete new one."""
    with open(tmp, 'rb') as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    folder = os.open(osp.dirname(osp.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def atomic_write(path, write, force=False, binary=False):
    """Call ``write(file)`` on a temp file beside ``path``, then rename it:
    never half a file. Refuses to replace ``path`` unless ``force``."""
    check_new(path, force)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    suffix = osp.splitext(path)[1]
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path), suffix=suffix,
                               dir=folder)
    try:
        with os.fdopen(fd, 'wb' if binary else 'w',
                       **({} if binary else {'encoding': 'utf-8'})) as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        replace_durably(tmp, path)
    except BaseException as exc:
        if osp.exists(tmp):
            os.remove(tmp)
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise no_space_error(path, exc) from exc
        raise
    return path


def write_json(path, data, force=True):
    """``data`` as indented JSON, atomically (anything JSON cannot hold is
    written as its ``str``)."""
    return atomic_write(path, lambda f: json.dump(
        data, f, indent=2, default=str), force=force)


def file_sha256(path):
    """The SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


_FORMULA_START = ('=', '+', '-', '@', '\t', '\r')


def csv_safe_row(row):
    """A list or dict row whose cells a spreadsheet never runs as formulas
    (OWASP's leading ``'``); numbers pass unchanged."""
    def safe(v):
        return "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v
    if isinstance(row, dict):
        return {k: safe(v) for k, v in row.items()}
    return [safe(v) for v in row]


def save_figure(fig, path, force=False, dpi=120):
    """Save a matplotlib figure to PNG atomically."""
    return atomic_write(
        path, lambda f: fig.savefig(f, format='png', dpi=dpi,
                                    bbox_inches='tight'), force, binary=True)


def read_classes(path, num_classes=None):
    """Class names from a ``classes.txt`` (one per line, line i is label i).

    Args:
        path (str): The file.
        num_classes (int, optional): The count it must hold, e.g. a model's
            outputs.

    Returns:
        list[str]: The names, blank lines skipped.
    """
    try:
        with open(path, encoding='utf-8') as f:
            classes = [line.strip() for line in f if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f'cannot read class names from {path} '
                             f'({type(exc).__name__}: {exc}).') from None
    if not classes:
        raise UserInputError(f'{path} lists no class names; write one name '
                             'per line.')
    if num_classes is not None and len(classes) != num_classes:
        raise UserInputError(f'{path} lists {len(classes)} classes, the '
                             f'model has {num_classes} outputs.')
    return classes
