"""Write result files atomically, never replacing one without being asked."""
import os
import os.path as osp
import tempfile

from .errors import UserInputError

# What the tools take as an image file (by name; contents are checked later).
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff',
                    '.webp', '.ppm', '.pgm')


def check_new(path, force=False):
    """Refuse to replace ``path`` unless ``force``."""
    if osp.exists(path) and not force:
        raise UserInputError(f'{path} exists; pass --force to replace it, or '
                             'choose another output path.')


def replace_durably(tmp, path):
    """Rename the finished file ``tmp`` to ``path`` (same folder), flushing
    both to disk first, so that after a crash or power loss ``path`` is
    either the old file or the complete new one."""
    with open(tmp, 'rb') as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    folder = os.open(osp.dirname(osp.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def atomic_write(path, write, force=False, binary=False):
    """Call ``write(file)`` on a temp file beside ``path``, then rename it.

    An interrupted write leaves the old file (or none), never half a file;
    the temp file's name starts with ``.`` + the name of ``path``.
    """
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
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    return path


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
