"""Place the images and write the annotation files, atomically."""
import errno
import os
import os.path as osp
import random
import shutil
import tempfile

from custom_modules.utils.errors import DatasetError
from custom_modules.utils.fileio import atomic_write, check_writable, no_space_error

from .split import SPLIT_NAMES

ANNOTATION_FILES = ('classes.txt', 'train.txt', 'val.txt', 'test.txt')
IMAGES_LINK = 'images'
MARKER = '.made_by_make_annotations'


def write_text(path, text):
    """Replace ``path`` with ``text`` through a temp file and a rename."""
    atomic_write(path, lambda f: f.write(text), force=True)


def check_outputs(src, out_dir, force):
    """Refuse outputs that would touch the source or overwrite silently."""
    real_src, real_out = osp.realpath(src), osp.realpath(out_dir)
    if real_out == real_src or real_out.startswith(real_src + os.sep):
        raise DatasetError(
            f'--out-dir {out_dir} is inside the source folder {src}; writing '
            'there would modify your data. Choose a folder outside it.')
    check_writable(out_dir, '--out-dir', folder=True)
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


def place_images(src, stage, layout, split_files):
    """Make images reachable from ``stage``; return their line paths."""
    if layout == 'inplace':
        try:
            os.symlink(osp.realpath(src), osp.join(stage, IMAGES_LINK),
                       target_is_directory=True)
        except OSError as exc:
            raise DatasetError(
                f'cannot create the symlink {IMAGES_LINK} ({exc}); use '
                '--layout copy instead.') from exc
        return {s: [osp.join(IMAGES_LINK, p) for p in files]
                for s, files in split_files.items()}
    lines = {}
    for split, files in split_files.items():
        os.makedirs(osp.join(stage, split))
        p = MARKER
        try:
            open(osp.join(stage, split, MARKER), 'w').close()
            for p in files:
                dst = osp.join(stage, split, p)
                os.makedirs(osp.dirname(dst), exist_ok=True)
                if layout == 'copy':
                    shutil.copy2(osp.join(src, p), dst)
                else:
                    os.symlink(osp.realpath(osp.join(src, p)), dst)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:  # the stage is removed by the caller
                raise no_space_error(osp.join(osp.dirname(stage), split, p),
                                     exc) from exc
            raise
        lines[split] = [osp.join(split, p) for p in files]
    return lines


def output_paths(out_dir, split_files):
    """The annotation files :func:`write_outputs` writes, by key."""
    return {'classes': osp.join(out_dir, 'classes.txt'),
            **{s: osp.join(out_dir, f'{s}.txt') for s in split_files},
            'report': osp.join(out_dir, 'report.json')}


def write_outputs(src, out_dir, layout, classes, split_files, seed,
                  report_text, relabel=None):
    """Build the whole set in a staging folder inside ``out_dir``, then move
    it in with renames (a failure leaves the old set). A path in
    ``relabel`` gets that class's label instead of its folder's."""
    os.makedirs(out_dir, exist_ok=True)
    stage = tempfile.mkdtemp(prefix='.annotations-', dir=out_dir)
    try:
        lines = place_images(src, stage, layout, split_files)
        label = {c: i for i, c in enumerate(classes)}
        relabel = relabel or {}
        texts = {'classes.txt': ''.join(c + '\n' for c in classes),
                 'report.json': report_text}
        for split, rel_paths in lines.items():
            entries = [
                f'{rp} {label[relabel.get(p) or p.split(os.sep, 1)[0]]}\n'
                for rp, p in zip(rel_paths, split_files[split])]
            random.Random(f'{seed}:{split}').shuffle(entries)
            texts[f'{split}.txt'] = ''.join(entries)
        for name, text in texts.items():
            write_text(osp.join(stage, name), text)
        for split in SPLIT_NAMES:  # only reachable with --force
            if split not in split_files:
                _replace_path(osp.join(out_dir, f'{split}.txt'))
        for name in os.listdir(stage):
            final = osp.join(out_dir, name)
            if osp.isdir(final) and not osp.islink(final):
                _replace_path(final)
            os.replace(osp.join(stage, name), final)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
