"""What the check found, as a table for people and JSON for scripts."""
import json
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field

from .split import SPLIT_NAMES

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
    'bad_name': 'a newline, control character or non-UTF-8 byte in the '
                'name would break the one-path-per-line UTF-8 annotation '
                'files: rename it',
    'not_regular': 'a FIFO, socket or device, not a file: move it out',
    'too_large': 'over the size read per file: shrink it or move it out',
}


def control_characters(name):
    """The control and line-break characters in ``name`` (U+ codes)."""
    return [f'U+{ord(ch):04X}' for ch in name
            if unicodedata.category(ch) in ('Cc', 'Zl', 'Zp')]


def shown(name):
    """``name`` printable on one line: control characters escaped."""
    return ''.join(repr(ch)[1:-1] if control_characters(ch)
                   or '\ud800' <= ch <= '\udfff' else ch for ch in name)


@dataclass
class Report:
    """What :func:`make_annotations` found and wrote."""
    classes: list
    found: dict = field(default_factory=dict)  # class -> files found
    counts: dict = field(default_factory=dict)  # class -> split -> n
    problems: list = field(default_factory=list)  # (kind, path, detail)
    notes: list = field(default_factory=list)  # (kind, path, detail)
    outputs: dict = field(default_factory=dict)
    seconds: float = 0.0
    files_checked: int = 0


def format_report(report, policy, limit=20, list_outputs=True):
    """The report as text (``list_outputs``: with the files written)."""
    splits = [s for s in SPLIT_NAMES if any(
        s in report.counts.get(c, {}) for c in report.classes)]
    names = list(report.found) or report.classes
    width = max([len(shown(c)) for c in names] + [5])
    columns = ['found', *splits, *(['used'] if splits else [])]
    rows = [f'{"class":<{width}}' + ''.join(f'{s:>8}' for s in columns)]
    totals = Counter()
    for c in names:
        counts = dict(report.counts.get(c, {}), found=report.found.get(c, 0))
        if splits:
            counts['used'] = sum(report.counts.get(c, {}).values())
        totals.update(counts)
        rows.append(f'{shown(c):<{width}}' + ''.join(
            f'{counts.get(s, 0):>8}' for s in columns))
    rows.append(f'{"total":<{width}}' + ''.join(
        f'{totals[s]:>8}' for s in columns))
    out = [f'checked {report.files_checked} files in {report.seconds:.1f} s',
           '', *rows]
    for title, items in (('excluded' if policy == 'exclude' else 'problems',
                          report.problems), ('notes', report.notes)):
        if items:
            out.extend(['', f'{title} ({len(items)}):'])
        for kind, path, detail in items[:limit]:
            fix = FIXES.get(kind, '')
            out.append(f'  [{kind}] {path}: {detail}' + (
                f'\n      fix: {fix}' if fix else ''))
        if len(items) > limit:
            out.append(f'  ... {len(items) - limit} more in report.json')
    if report.outputs and list_outputs:
        out.extend(['', 'wrote:'] +
                   [f'  {p}' for p in report.outputs.values()])
    return '\n'.join(out)


def report_json(report):
    data = asdict(report)
    for key in ('problems', 'notes'):
        data[key] = [dict(kind=k, path=p, detail=d) for k, p, d in data[key]]
    return json.dumps(data, indent=2)
