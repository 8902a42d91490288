"""Place the images and write the annotation files, atomically."""
import errno
import os
import os.path as osp
import random
import shutil
import tempfile

from custom_modules.utils.fileio import atomic_write, no_space_error

from .errors import DatasetError
from .split import SPLIT_NAMES

ANNOTATION_FILES = ('classes.txt', 'train.txt', 'val.txt', 'test.txt')
IMAGES_LINK = 'images'
MARKER = '.made_by_make_annotations'


def write_text(path, text):
    """Replace ``path`` with ``text`` through a temp file and a rename."""
    atomic_write(path, lambda f: f.write(text), force=True)


def check_writable(out_dir):
    """Refuse an --out-dir that cannot be created or written, before the
    images are checked (a probe file in its nearest existing folder)."""
    folder = osp.abspath(out_dir)
    while not osp.exists(folder):
        folder = osp.dirname(folder)
    if not osp.isdir(folder):
        raise DatasetError(f'--out-dir {out_dir}: {folder} is a file, not a '
                           'folder; choose another --out-dir.')
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        raise DatasetError(
            f'--out-dir {out_dir}: cannot write in {folder} ({exc.strerror}); '
            'choose a folder you can write to.') from None


def check_outputs(src, out_dir, force):
    """Refuse outputs that would touch the source or overwrite silently."""
    real_src, real_out = osp.realpath(src), osp.realpath(out_dir)
    if real_out == real_src or real_out.startswith(real_src + os.sep):
        raise DatasetError(
            f'--out-dir {out_dir} is inside the source folder {src}; writing '
            'there would modify your data. Choose a folder outside it.')
    check_writable(out_dir)
    existing = [f for f in ANNOTATION_FILES if osp.exists(osp.join(out_dir, f))]
    if existing and not force:
        raise DatasetError(
            f'{out_dir} already has {", ".join(existing)}; pass --force to '
            'replace them, or choose another --out-dir.')
    for name in (*SPLIT_NAMES, IMAGES_LINK):
        path = osp.join(out_dir, name)
        if osp.islink(path) or not osp.exists(path):
            continue
        if not osp.exists(osp.join(path, MARKER)):
            raise DatasetError(
                f'{path} exists and was not made by this tool; move it away '
                'or choose another --out-dir.')
        if not force:
            raise DatasetError(f'{path} exists; pass --force to replace it.')


def _replace_path(path):
    if osp.islink(path) or osp.isfile(path):
        os.remove(path)
    elif osp.isdir(path):
        shutil.rmtree(path)


def place_images(src, out_dir, layout, split_files):
    """Make images reachable from ``out_dir``; return their line paths."""
    if layout == 'inplace':
        link = osp.join(out_dir, IMAGES_LINK)
        tmp = link + '.tmp'
        _replace_path(tmp)
        try:
            os.symlink(osp.realpath(src), tmp, target_is_directory=True)
        except OSError as exc:
            raise DatasetError(
                f'cannot create the symlink {link} ({exc}); use '
                '--layout copy instead.') from exc
        _replace_path(link)
        os.replace(tmp, link)
        return {s: [osp.join(IMAGES_LINK, p) for p in files]
                for s, files in split_files.items()}
    lines = {}
    for split, files in split_files.items():
        final = osp.join(out_dir, split)
        staging = tempfile.mkdtemp(prefix=f'.{split}-', dir=out_dir)
        p = MARKER
        try:
            open(osp.join(staging, MARKER), 'w').close()
            for p in files:
                dst = osp.join(staging, p)
                os.makedirs(osp.dirname(dst), exist_ok=True)
                if layout == 'copy':
                    shutil.copy2(osp.join(src, p), dst)
                else:
                    os.symlink(osp.realpath(osp.join(src, p)), dst)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)  # nothing half-made
            if exc.errno == errno.ENOSPC:
                raise no_space_error(osp.join(final, p), exc) from exc
            raise
        _replace_path(final)
        os.replace(staging, final)
        lines[split] = [osp.join(split, p) for p in files]
    return lines


def write_outputs(src, out_dir, layout, classes, split_files, seed,
                  relabel=None):
    """Place images, then write the annotation files atomically; a path in
    ``relabel`` gets that class's label instead of its folder's."""
    os.makedirs(out_dir, exist_ok=True)
    lines = place_images(src, out_dir, layout, split_files)
    label = {c: i for i, c in enumerate(classes)}
    outputs = {'classes': osp.join(out_dir, 'classes.txt')}
    write_text(outputs['classes'], ''.join(c + '\n' for c in classes))
    for split in SPLIT_NAMES:  # only reachable with --force
        stale = osp.join(out_dir, f'{split}.txt')
        if split not in split_files and osp.exists(stale):
            os.remove(stale)
    for split, rel_paths in lines.items():
        relabel = relabel or {}
        entries = [f'{rp} {label[relabel.get(p) or p.split(os.sep, 1)[0]]}\n'
                   for rp, p in zip(rel_paths, split_files[split])]
        random.Random(f'{seed}:{split}').shuffle(entries)
        outputs[split] = osp.join(out_dir, f'{split}.txt')
        write_text(outputs[split], ''.join(entries))
    return outputs
