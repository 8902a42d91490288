"""Check a class-per-folder image tree and write ImageNet-style annotations:
:mod:`.scan`, :mod:`.decisions`, :mod:`.split`, :mod:`.write`, :mod:`.summary`.
"""
import os
import sys
import time

from custom_modules.utils.errors import DatasetError

from .decisions import apply_decisions, join_groups, read_decisions
from .scan import check_all, find_problems, scan
from .split import SPLIT_NAMES, parse_split, split_class, split_counts
from .summary import Report, format_report, report_json
from .write import check_outputs, output_paths, write_outputs

__all__ = ['DatasetError', 'Report', 'format_report', 'make_annotations',
           'parse_split', 'split_counts']


def check_class_set(src, found, expected, which=''):
    """The class folders of ``src`` must be the model's classes."""
    parts = [f'{what}: {", ".join(names)}' for what, names in (
        (f'missing (no folder{which})', [c for c in expected if c not in found]),
        ('unknown to the model', [c for c in found if c not in expected]))
        if names]
    if parts:
        raise DatasetError(
            f'{src}: the class folders differ from the model\'s classes '
            f'({", ".join(expected)}): {"; ".join(parts)}. Give the folder '
            'exactly one sub-folder per model class, named as above.')


def make_annotations(src, out_dir='data/flower_dataset', split='8:2', seed=0,
                     layout='inplace', on_problem='stop', min_per_class=0,
                     workers=None, force=False, progress=True,
                     expected_classes=None, decisions=None):
    """Check ``src`` and write annotation files; return the :class:`Report`.

    Args:
        src (str): Folder with one sub-folder per class.
        out_dir (str): Where the annotation files go (the data root).
        split (str): Ratios, ``'8:2'``, ``'8:1:1'`` or e.g. ``'0:0:1'``.
        seed (int): Shuffle seed; the same seed gives the same files.
        layout (str): ``'inplace'``, ``'symlink'`` or ``'copy'``.
        on_problem (str): ``'stop'`` (raise, write nothing) or
            ``'exclude'`` (leave the files out and list them).
        min_per_class (int): Fewer usable images in a class is a problem.
        workers (int, optional): Decoding processes; all cores by default.
        force (bool): Replace existing annotation files.
        progress (bool): Show a progress bar on stderr.
        expected_classes (list[str], optional): A model's classes in label
            order; they must be exactly the class folders.
        decisions (str, optional): A decisions file (see
            :mod:`.decisions`) applied to the lists written.

    Raises:
        DatasetError: With the report text, on problems and ``'stop'``.
    """
    ratios = parse_split(split)
    check_outputs(src, out_dir, force)
    start = time.time()
    classes, files = scan(src)
    if expected_classes is not None:
        check_class_set(src, classes, expected_classes)
    chosen = read_decisions(decisions, classes, files) if decisions else None
    if chosen:
        files = apply_decisions(classes, files, chosen)
    paths = [p for c in classes for p in files[c]]
    cpus = os.cpu_count() or 1
    if workers and workers > cpus:
        print(f'--workers {workers}: lowered to {cpus}, the CPU count',
              file=sys.stderr)
    results = check_all(src, paths, min(workers or cpus, cpus), progress)
    report, groups = find_problems(
        classes, files, results,
        max(min_per_class, sum(r > 0 for r in ratios)))  # one per split
    if chosen:
        join_groups(report, groups, chosen.groups)
    report.files_checked = len(paths)
    report.found = {c: len(files[c]) for c in classes}
    report.seconds = time.time() - start
    if report.problems and on_problem == 'stop':
        raise DatasetError(
            format_report(report, on_problem) + '\n\nNothing was written. '
            'Fix the files above, or pass --on-problem exclude to leave them '
            'out.')
    report.classes = [c for c in classes if c in groups]
    if expected_classes is not None:
        check_class_set(src, report.classes, expected_classes,
                        ' with usable images')
        report.classes = list(expected_classes)
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
    report.outputs = output_paths(out_dir, split_files)
    write_outputs(src, out_dir, layout, report.classes, split_files, seed,
                  report_json(report), chosen.relabel if chosen else {})
    return report
