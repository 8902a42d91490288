"""Find the class folders, then decode and hash every file in parallel."""
import hashlib
import io
import multiprocessing
import os
import os.path as osp
import stat
import sys
import time
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from custom_modules.utils.errors import DatasetError

from .summary import CONVERTED_MODES, Report, control_characters, shown

MAX_BYTES = 64 << 20  # read at most this much of one file


@dataclass(slots=True)  # ~200 bytes a file: 1.3 M files fit in ~250 MiB
class FileCheck:
    """What decoding and hashing one file found."""
    path: str  # relative to the source root: <class>/<...>/<file>
    status: str = 'ok'  # ok|corrupt|not_image|not_regular|too_large
    detail: str = ''
    digest: bytes = b''
    mode: str = ''


def scan(src):
    """Class names and each class's files (sorted, hidden files included)."""
    if not osp.isdir(src):
        raise DatasetError(
            f'source folder {src} does not exist; pass the folder that holds '
            'one sub-folder per class.')
    classes = sorted(e.name for e in os.scandir(src)
                     if e.is_dir() and not e.name.startswith('.'))
    if not classes:
        raise DatasetError(
            f'{src} has no class sub-folders; expected <class>/<image> files, '
            'e.g. daisy/1.jpg.')
    files = {}
    for name in classes:
        found = []
        for dirpath, dirnames, filenames in os.walk(osp.join(src, name)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith('.'))
            rel = osp.relpath(dirpath, src)
            found.extend(osp.join(rel, f) for f in filenames)
        files[name] = sorted(found)
    return classes, files


def check_file(args):
    """Decode and hash one file; never raises (runs in a worker)."""
    src, rel = args
    result = FileCheck(rel)
    path = osp.join(src, rel)
    try:  # stat first: opening a FIFO blocks, a device never ends
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            result.status, result.detail = (
                'not_regular', 'not a regular file (FIFO, socket or device)')
            return result
        with open(path, 'rb') as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        result.status, result.detail = 'corrupt', f'unreadable: {exc}'
        return result
    if len(data) > MAX_BYTES:
        result.status, result.detail = 'too_large', f'larger than {MAX_BYTES >> 20} MiB'
        return result
    result.digest = hashlib.blake2b(data, digest_size=16).digest()
    try:
        with Image.open(io.BytesIO(data)) as img:
            result.mode = img.mode
            if img.format == 'JPEG':
                # DCT-domain downscale: every byte is still decoded, so
                # truncation is caught, at a fraction of the cost.
                img.draft('RGB', (64, 64))
            img.load()
    except UnidentifiedImageError:
        result.status, result.detail = 'not_image', 'not a decodable image'
    except (OSError, SyntaxError, ValueError) as exc:
        result.status, result.detail = 'corrupt', str(exc)
    return result


def progress_bar(label, total, unit='files'):
    """``show(done)``: ``label: done/total (pct%) rate unit/s`` on stderr,
    the line ended at ``total``."""
    start = time.time()

    def show(done):
        rate = done / max(time.time() - start, 1e-9)
        print(f'\r{label}: {done}/{total} ({100 * done // max(total, 1)}%) '
              f'{rate:.0f} {unit}/s', end='' if done < total else '\n',
              file=sys.stderr, flush=True)
    return show


def check_all(src, paths, workers, progress=True):
    """Run :func:`check_file` over ``paths`` in parallel, with a progress bar."""
    total = len(paths)
    results = []
    show = progress_bar('checking images', total) if progress else None
    jobs = ((src, p) for p in paths)
    chunk = max(1, min(256, total // (workers * 8) or 1))
    with (multiprocessing.Pool(workers) if workers > 1 else nullcontext()) as pool:
        mapped = pool.imap(check_file, jobs, chunk) if pool else map(
            check_file, jobs)
        for i, result in enumerate(mapped, 1):
            results.append(result)
            if show and (i % 500 == 0 or i == total):
                show(i)
    return results


def name_problem(name):
    """Why ``name`` can't be one annotation line, or ``''``."""
    try:
        name.encode('utf-8')
    except UnicodeEncodeError:
        return 'name is not valid UTF-8'
    bad = control_characters(name)
    return 'name has ' + ', '.join(bad) if bad else ''


def find_problems(classes, files, results, need):
    """Turn per-file results into problems, notes and usable groups."""
    report = Report(classes=list(classes))
    by_path = {r.path: r for r in results}
    class_of = {p: c for c in classes for p in files[c]}
    bad_classes = {c for c in classes if name_problem(c)}
    for c in sorted(bad_classes):
        report.problems.append(('bad_name', shown(c),
                                'class folder ' + name_problem(c)))
    for r in results:
        if class_of[r.path] in bad_classes:
            continue
        if name_problem(r.path):
            r.status, r.detail = 'bad_name', name_problem(r.path)
            report.problems.append((r.status, shown(r.path), r.detail))
        elif r.status != 'ok':
            report.problems.append((r.status, r.path, r.detail))
        elif r.mode in CONVERTED_MODES:
            report.notes.append(('mode', r.path, CONVERTED_MODES[r.mode]))
    bad = {r.path for r in results
           if r.status != 'ok' or class_of[r.path] in bad_classes}

    by_digest = defaultdict(list)
    for r in results:
        if r.status == 'ok':
            by_digest[r.digest].append(r.path)
    for paths in by_digest.values():
        if len(paths) < 2:
            continue
        labels = sorted({class_of[p] for p in paths})
        if len(labels) > 1:
            for p in paths:
                report.problems.append(
                    ('label_conflict', p, 'same bytes as ' + ', '.join(
                        q for q in paths if q != p)))
                bad.add(p)
        else:
            report.notes.append(('duplicate', paths[0], 'identical to ' +
                                 ', '.join(paths[1:]) + ' (kept in one split)'))

    groups = {}
    for c in classes:
        usable = [p for p in files[c] if p not in bad]
        if c in bad_classes:
            continue
        if not files[c] or not usable:
            report.problems.append(('empty_class', c, 'no usable image'))
        elif len(usable) < need:
            report.problems.append(
                ('too_few', c, f'{len(usable)} usable images, needs {need}'))
        else:
            digests = defaultdict(list)
            for p in usable:
                digests[by_path[p].digest].append(p)
            groups[c] = list(digests.values())
    return report, groups
