"""The decisions file the dataset doctor writes and the user edits for
``make_annotations --decisions FILE``. One decision a line::

    exclude daisy/1.jpg              # leave the photo out
    relabel daisy/2.jpg tulip        # file it under another class
    group daisy/3.jpg daisy/4.jpg    # near-duplicates: keep in one split

Paths are relative to the source folder; ``#`` starts a comment.
"""
from dataclasses import dataclass, field
from pathlib import Path

from custom_modules.utils.errors import DatasetError

VERBS = ('exclude', 'relabel', 'group')


@dataclass
class Decisions:
    exclude: set = field(default_factory=set)
    relabel: dict = field(default_factory=dict)  # path -> class
    groups: list = field(default_factory=list)  # [[path, ...], ...]


def read_decisions(path, classes, files):
    """Parse and check ``path`` against the scanned ``classes``/``files``;
    a bad line raises :class:`DatasetError` naming its number."""
    known = {p for c in classes for p in files[c]}
    decisions = Decisions()
    try:
        lines = Path(path).read_text(encoding='utf-8').splitlines()
    except OSError as exc:
        raise DatasetError(f'--decisions {path}: cannot read it '
                           f'({exc.strerror}).') from None
    for number, line in enumerate(lines, 1):
        words = line.split('#', 1)[0].split()
        if not words:
            continue

        def fail(why, number=number, line=line):
            raise DatasetError(f'{path}, line {number}: {why}: {line.strip()!r}'
                               '. Lines are `exclude PATH`, `relabel PATH '
                               'CLASS` or `group PATH PATH...`, paths relative '
                               'to the source folder.')
        verb, args = words[0], words[1:]
        if verb not in VERBS:
            fail(f'unknown decision {verb!r} (known: {", ".join(VERBS)})')
        wanted = {'exclude': 1, 'relabel': 2}.get(verb)
        if (wanted and len(args) != wanted) or (not wanted and len(args) < 2):
            fail(f'{verb} takes {wanted or "two or more"} argument(s)')
        for p in (args if verb == 'group' else args[:1]):
            if p not in known:
                fail(f'unknown file {p!r}')
        if verb == 'exclude':
            decisions.exclude.add(args[0])
        elif verb == 'relabel':
            if args[1] not in classes:
                fail(f'unknown class {args[1]!r} (known: {", ".join(classes)})')
            decisions.relabel[args[0]] = args[1]
        else:
            decisions.groups.append(list(dict.fromkeys(args)))
    return decisions


def apply_decisions(classes, files, decisions):
    """``files`` (class -> paths) with exclusions dropped and relabelled
    photos moved to their new class."""
    out = {c: [] for c in classes}
    for c in classes:
        for p in files[c]:
            if p not in decisions.exclude:
                out[decisions.relabel.get(p, c)].append(p)
    return {c: sorted(paths) for c, paths in out.items()}


def join_groups(report, groups, together):
    """Merge each class's split groups that ``together`` links; a group
    spanning classes becomes a ``label_conflict`` problem instead."""
    class_of = {p: c for c, gs in groups.items() for g in gs for p in g}
    for members in together:
        members = [p for p in members if p in class_of]
        labels = sorted({class_of[p] for p in members})
        if len(labels) > 1:
            for p in members:
                report.problems.append((
                    'label_conflict', p, 'near-duplicate of ' + ', '.join(
                        q for q in members if q != p) + ' in another class'))
                groups[class_of[p]] = [[q for q in g if q != p]
                                       for g in groups[class_of[p]]]
            continue
        if len(members) < 2:
            continue
        merged, rest = [], []
        for g in groups[labels[0]]:
            (merged if set(g) & set(members) else rest).append(g)
        groups[labels[0]] = rest + [sorted(p for g in merged for p in g)]
    for c in groups:
        groups[c] = [g for g in groups[c] if g]
