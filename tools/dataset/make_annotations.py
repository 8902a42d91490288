"""Check a folder of class sub-folders and write ImageNet-style annotations.

    python tools/dataset/make_annotations.py ../shared/datasets/flower_dataset

writes ``classes.txt``, ``train.txt`` and ``val.txt`` (and ``test.txt`` with
``--split 8:1:1``) to ``data/flower_dataset/``. Every file is decoded and
hashed first (in parallel); problems are reported with the file and a fix,
and either stop the run (``--on-problem stop``, the default) or are left out
and listed (``--on-problem exclude``). The source folder is only read.

Lines are ``relative/path.jpg label``, relative to the output folder (the
configs' ``data_root``). By default they go through one symlink,
``<out>/images -> <source>``, so images stay in place; ``--layout symlink``
or ``--layout copy`` materialise ``<out>/<split>/<class>/<file>`` instead.
"""
import argparse
import hashlib
import io
import json
import multiprocessing
import os
import os.path as osp
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from PIL import Image, UnidentifiedImageError

SPLIT_NAMES = ('train', 'val', 'test')
ANNOTATION_FILES = ('classes.txt', 'train.txt', 'val.txt', 'test.txt')
IMAGES_LINK = 'images'
MARKER = '.made_by_make_annotations'
# Modes the pipeline converts on load (reported, not excluded).
CONVERTED_MODES = {'L': 'grayscale', 'LA': 'grayscale with alpha',
                   'I;16': '16-bit grayscale', 'I': '32-bit grayscale',
                   'P': 'palette', 'PA': 'palette with alpha',
                   'RGBA': 'alpha channel', 'CMYK': 'CMYK', '1': 'bilevel'}
FIXES = {
    'corrupt': 'the file is truncated or damaged: re-download or re-export it',
    'not_image': 'not an image: move it out of the class folder',
    'empty_class': 'the class folder has no usable image: add images or '
                   'remove the folder',
    'too_few': 'too few images to give every split one: add images, or '
               'remove the class',
    'label_conflict': 'the same file is in several classes: keep it in the '
                      'right one only',
}


class DatasetError(Exception):
    """Bad input or refused output; the message says how to fix it."""


@dataclass(slots=True)  # ~200 bytes a file: 1.3 M files fit in ~250 MiB
class FileCheck:
    """What decoding and hashing one file found."""
    path: str  # relative to the source root: <class>/<...>/<file>
    status: str = 'ok'  # ok | corrupt | not_image
    detail: str = ''
    digest: bytes = b''
    mode: str = ''


@dataclass
class Report:
    classes: list
    found: dict = field(default_factory=dict)  # class -> files found
    counts: dict = field(default_factory=dict)  # class -> split -> n
    problems: list = field(default_factory=list)  # (kind, path, detail)
    notes: list = field(default_factory=list)  # (kind, path, detail)
    outputs: dict = field(default_factory=dict)
    seconds: float = 0.0
    files_checked: int = 0


# ----------------------------------------------------------------- scanning
def parse_split(text):
    """``'8:2'`` -> ``(0.8, 0.2)``; ``'8:1:1'`` -> three ratios."""
    try:
        parts = [float(p) for p in text.split(':')]
    except ValueError:
        parts = []
    if len(parts) not in (2, 3) or any(p < 0 for p in parts) or \
            parts[0] <= 0 or sum(parts) <= 0 or parts[1] <= 0:
        raise DatasetError(
            f'--split {text!r}: give 2 or 3 non-negative ratios with train '
            'and val above 0, e.g. 8:2 or 8:1:1.')
    total = sum(parts)
    return tuple(p / total for p in parts)


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
    try:
        with open(osp.join(src, rel), 'rb') as f:
            data = f.read()
    except OSError as exc:
        result.status, result.detail = 'corrupt', f'unreadable: {exc}'
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


def check_all(src, paths, workers, progress=True):
    """Run :func:`check_file` over ``paths`` in parallel, with a progress bar."""
    total = len(paths)
    results = []
    start = time.time()
    jobs = ((src, p) for p in paths)
    chunk = max(1, min(256, total // (workers * 8) or 1))
    pool = multiprocessing.Pool(workers) if workers > 1 else None
    try:
        mapped = pool.imap(check_file, jobs, chunksize=chunk) if pool else map(
            check_file, jobs)
        for i, result in enumerate(mapped, 1):
            results.append(result)
            if progress and (i % 500 == 0 or i == total):
                rate = i / max(time.time() - start, 1e-9)
                print(f'\rchecking images: {i}/{total} ({100 * i // total}%) '
                      f'{rate:.0f} files/s', end='', file=sys.stderr,
                      flush=True)
    finally:
        if pool:
            pool.close()
            pool.join()
    if progress and total:
        print(file=sys.stderr)
    return results


# ---------------------------------------------------------------- splitting
def split_counts(n, ratios):
    """Images per split: largest remainder, every split at least one."""
    raw = [n * r for r in ratios]
    counts = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: counts[i] - raw[i])[
            :n - sum(counts)]:
        counts[i] += 1
    for i, r in enumerate(ratios):  # a split with a ratio gets >= 1 image
        if r > 0 and counts[i] == 0:
            donor = max(range(len(counts)), key=counts.__getitem__)
            counts[donor] -= 1
            counts[i] += 1
    return counts


def split_class(groups, ratios, seed, class_name):
    """Assign duplicate groups of one class to splits.

    ``groups`` is a list of path lists (byte-identical files together), so
    copies always share a split. The class's own seed keeps its split stable
    when other classes change.
    """
    groups = sorted(groups)
    rng = random.Random(f'{seed}:{class_name}')
    rng.shuffle(groups)
    targets = split_counts(sum(len(g) for g in groups), ratios)
    bounds = [sum(targets[:i + 1]) for i in range(len(targets))]
    splits = [[] for _ in ratios]
    seen = 0
    for group in groups:
        index = next(i for i, b in enumerate(bounds) if seen < b)
        splits[index].extend(group)
        seen += len(group)
    return splits


def min_images(ratios):
    return sum(1 for r in ratios if r > 0)


# ------------------------------------------------------------------ checking
def find_problems(classes, files, results, ratios, min_per_class):
    """Turn per-file results into problems, notes and usable groups."""
    report = Report(classes=list(classes))
    by_path = {r.path: r for r in results}
    class_of = {p: c for c in classes for p in files[c]}
    for r in results:
        if r.status != 'ok':
            report.problems.append((r.status, r.path, r.detail))
        elif r.mode in CONVERTED_MODES:
            report.notes.append(('mode', r.path, CONVERTED_MODES[r.mode]))
    bad = {r.path for r in results if r.status != 'ok'}

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
    need = max(min_per_class, min_images(ratios))
    for c in classes:
        usable = [p for p in files[c] if p not in bad]
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


# ------------------------------------------------------------------- writing
def atomic_write(path, text):
    """Write via a temp file in the same folder, then rename over ``path``.

    (custom_modules.outputs has the general version; this tool stays free of
    torch and mmengine imports so it starts at once and runs anywhere.)
    """
    folder = osp.dirname(path) or '.'
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path), dir=folder)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def check_outputs(src, out_dir, force):
    """Refuse outputs that would touch the source or overwrite silently."""
    real_src, real_out = osp.realpath(src), osp.realpath(out_dir)
    if real_out == real_src or real_out.startswith(real_src + os.sep):
        raise DatasetError(
            f'--out-dir {out_dir} is inside the source folder {src}; writing '
            'there would modify your data. Choose a folder outside it.')
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
        open(osp.join(staging, MARKER), 'w').close()
        for p in files:
            dst = osp.join(staging, p)
            os.makedirs(osp.dirname(dst), exist_ok=True)
            if layout == 'copy':
                shutil.copy2(osp.join(src, p), dst)
            else:
                os.symlink(osp.realpath(osp.join(src, p)), dst)
        _replace_path(final)
        os.replace(staging, final)
        lines[split] = [osp.join(split, p) for p in files]
    return lines


def write_outputs(src, out_dir, layout, classes, split_files, seed):
    """Place images, then write the annotation files atomically."""
    os.makedirs(out_dir, exist_ok=True)
    lines = place_images(src, out_dir, layout, split_files)
    label = {c: i for i, c in enumerate(classes)}
    outputs = {'classes': osp.join(out_dir, 'classes.txt')}
    atomic_write(outputs['classes'], ''.join(c + '\n' for c in classes))
    stale = osp.join(out_dir, 'test.txt')
    if 'test' not in split_files and osp.exists(stale):
        os.remove(stale)  # only reachable with --force
    for split, rel_paths in lines.items():
        entries = [f'{rp} {label[p.split(os.sep, 1)[0]]}\n'
                   for rp, p in zip(rel_paths, split_files[split])]
        random.Random(f'{seed}:{split}').shuffle(entries)
        outputs[split] = osp.join(out_dir, f'{split}.txt')
        atomic_write(outputs[split], ''.join(entries))
    return outputs


# -------------------------------------------------------------------- report
def format_report(report, policy, limit=20):
    splits = [s for s in SPLIT_NAMES if any(
        s in report.counts.get(c, {}) for c in report.classes)]
    names = list(report.found) or report.classes
    width = max([len(c) for c in names] + [5])
    columns = ['found', *splits, *(['used'] if splits else [])]
    rows = [f'{"class":<{width}}' + ''.join(f'{s:>8}' for s in columns)]
    totals = Counter()
    for c in names:
        counts = dict(report.counts.get(c, {}), found=report.found.get(c, 0))
        if splits:
            counts['used'] = sum(report.counts.get(c, {}).values())
        totals.update(counts)
        rows.append(f'{c:<{width}}' + ''.join(
            f'{counts.get(s, 0):>8}' for s in columns))
    rows.append(f'{"total":<{width}}' + ''.join(
        f'{totals[s]:>8}' for s in columns))
    out = [f'checked {report.files_checked} files in {report.seconds:.1f} s',
           '', *rows]

    def listing(title, items):
        if not items:
            return
        out.extend(['', f'{title} ({len(items)}):'])
        for kind, path, detail in items[:limit]:
            fix = FIXES.get(kind, '')
            out.append(f'  [{kind}] {path}: {detail}' + (
                f'\n      fix: {fix}' if fix else ''))
        if len(items) > limit:
            out.append(f'  ... {len(items) - limit} more in report.json')

    listing('excluded' if policy == 'exclude' else 'problems',
            report.problems)
    listing('notes', report.notes)
    if report.outputs:
        out.extend(['', 'wrote:'] +
                   [f'  {p}' for p in report.outputs.values()])
    return '\n'.join(out)


def report_json(report):
    return json.dumps({
        'classes': report.classes, 'found': report.found,
        'counts': report.counts,
        'problems': [dict(kind=k, path=p, detail=d)
                     for k, p, d in report.problems],
        'notes': [dict(kind=k, path=p, detail=d) for k, p, d in report.notes],
        'files_checked': report.files_checked, 'seconds': report.seconds,
        'outputs': report.outputs}, indent=2)


# ---------------------------------------------------------------------- main
def make_annotations(src, out_dir='data/flower_dataset', split='8:2', seed=0,
                     layout='inplace', on_problem='stop', min_per_class=0,
                     workers=None, force=False, progress=True):
    """Check ``src`` and write annotation files; return the :class:`Report`.

    Raises :class:`DatasetError` (with the report text) when problems are
    found and ``on_problem='stop'``; nothing is written then.
    """
    ratios = parse_split(split)
    check_outputs(src, out_dir, force)
    start = time.time()
    classes, files = scan(src)
    paths = [p for c in classes for p in files[c]]
    results = check_all(src, paths, workers or os.cpu_count() or 1, progress)
    report, groups = find_problems(classes, files, results, ratios,
                                   min_per_class)
    report.files_checked = len(paths)
    report.found = {c: len(files[c]) for c in classes}
    report.seconds = time.time() - start
    if report.problems and on_problem == 'stop':
        raise DatasetError(
            format_report(report, on_problem) + '\n\nNothing was written. '
            'Fix the files above, or pass --on-problem exclude to leave them '
            'out.')
    report.classes = [c for c in classes if c in groups]
    if len(report.classes) < 2:
        raise DatasetError(
            format_report(report, on_problem) + f'\n\n{src}: fewer than two '
            'classes have usable images; nothing to classify.')
    split_files = {s: [] for s, r in zip(SPLIT_NAMES, ratios) if r > 0}
    for c in report.classes:
        parts = split_class(groups[c], ratios, seed, c)
        report.counts[c] = {}
        for s, part in zip(SPLIT_NAMES, parts):
            if s in split_files:
                split_files[s].extend(part)
                report.counts[c][s] = len(part)
    report.outputs = write_outputs(src, out_dir, layout, report.classes,
                                   split_files, seed)
    report.outputs['report'] = osp.join(out_dir, 'report.json')
    atomic_write(report.outputs['report'], report_json(report))
    return report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Check a class-per-folder image tree and write '
        'ImageNet-style annotation files.')
    parser.add_argument('src', help='folder with one sub-folder per class')
    parser.add_argument('--out-dir', default='data/flower_dataset',
                        help='where annotation files go (the configs\' '
                        'data_root; default: %(default)s)')
    parser.add_argument('--split', default='8:2',
                        help='train:val or train:val:test ratio '
                        '(default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0,
                        help='shuffle seed; the same seed gives the same '
                        'files (default: %(default)s)')
    parser.add_argument('--layout', choices=['inplace', 'symlink', 'copy'],
                        default='inplace',
                        help='inplace: reference the source images through '
                        'one symlink; symlink/copy: build <split>/<class>/ '
                        'folders (default: %(default)s)')
    parser.add_argument('--on-problem', choices=['stop', 'exclude'],
                        default='stop',
                        help='stop before writing anything, or leave the '
                        'files out and list them (default: %(default)s)')
    parser.add_argument('--min-per-class', type=int, default=0,
                        help='classes with fewer usable images are a '
                        'problem (default: one per split)')
    parser.add_argument('--workers', type=int, default=None,
                        help='decoding processes (default: all cores)')
    parser.add_argument('--force', action='store_true',
                        help='replace existing annotation files')
    parser.add_argument('--quiet', action='store_true',
                        help='no progress bar')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        report = make_annotations(
            args.src, args.out_dir, args.split, args.seed, args.layout,
            args.on_problem, args.min_per_class, args.workers, args.force,
            progress=not args.quiet)
    except DatasetError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    print(format_report(report, args.on_problem))
    return 0


if __name__ == '__main__':
    sys.exit(main())
