"""The grid's one-page ``report.html``: its results table and significance
matrices (results.md), its chart (results.png) and a relative link to each
run's own page, so the folder can be moved or zipped as a whole."""
import glob
import json
import os.path as osp

from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import atomic_write
from custom_modules.utils.html_page import (
    esc,
    image_file,
    markdown_html,
    missing,
    page,
)


def finished_runs(work_dir):
    """``[(run dir, done.json record)]`` of the grid's finished runs
    (``<config>/`` or ``<config>/seed<k>/``)."""
    runs = []
    for pattern in ('*/done.json', '*/seed*/done.json'):
        for path in sorted(glob.glob(osp.join(work_dir, pattern))):
            with open(path, encoding='utf-8') as f:
                runs.append((osp.dirname(path), json.load(f)))
    return runs


def seed_text(seed):
    return '-' if seed is None else str(seed)


def runs_html(work_dir, runs):
    rows = []
    for run_dir, record in runs:
        name = osp.relpath(run_dir, work_dir)
        page_path = osp.join(run_dir, 'report.html')
        if osp.isfile(page_path):
            link = (f'<a href="{esc(osp.relpath(page_path, work_dir))}">'
                    f'{esc(name)}</a>')
        else:
            link = (f'{esc(name)} (no page yet: <code>python tools/analysis/'
                    f'make_report.py {esc(run_dir)}</code>)')
        accuracy = record.get('test_acc', record.get('val_acc'))
        split = 'test' if 'test_acc' in record else 'val'
        rows.append(f'<tr><td>{link}</td><td>{esc(record.get("model", ""))}'
                    f'</td><td>{esc(record.get("frozen_stages", ""))}</td>'
                    f'<td>{esc(record.get("augmentation", ""))}</td>'
                    f'<td>{esc(seed_text(record.get("seed")))}</td><td>'
                    f'{"-" if accuracy is None else f"{accuracy:.2f}"} '
                    f'({split})</td></tr>')
    if not rows:
        return missing('No finished run in this folder yet')
    return ('<table><tr><th>run (its page)</th><th>model</th><th>frozen '
            'stages</th><th>augmentation</th><th>seed</th><th>accuracy (%)'
            '</th></tr>' + ''.join(rows) + '</table>')


def build_grid_report(work_dir):
    """``(html, [missing parts])`` for the grid in ``work_dir``."""
    results = osp.join(work_dir, 'results.md')
    if not osp.isfile(results):
        raise UserInputError(
            f'{work_dir} has no results.md: it is not a work dir of '
            'tools/run_grid.py, or the grid has not finished a pass (run '
            f'python tools/run_grid.py --work-dir {work_dir} again: finished '
            'runs are skipped).')
    with open(results, encoding='utf-8') as f:
        table = markdown_html(f.read())
    chart = osp.join(work_dir, 'results.png')
    absent = [] if osp.isfile(chart) else [('results.png', None)]
    runs = finished_runs(work_dir)
    absent += [(f'{osp.relpath(d, work_dir)}/report.html',
                f'python tools/analysis/make_report.py {d}')
               for d, _ in runs if not osp.isfile(osp.join(d, 'report.html'))]
    body = (f'<p>Grid <code>{esc(osp.abspath(work_dir))}</code>.</p>'
            '<h2>Runs</h2>' + runs_html(work_dir, runs) +
            '<h2>Chart</h2>' + (image_file(chart, 'results chart')
                                if osp.isfile(chart) else
                                missing('results.png not drawn')) +
            table)
    return page('Grid report', body), absent


def write_grid_report(work_dir, out=None, force=False):
    """Write ``<work_dir>/report.html`` atomically; ``(path, missing)``."""
    out = out or osp.join(work_dir, 'report.html')
    text, absent = build_grid_report(work_dir)
    atomic_write(out, lambda f: f.write(text), force=force)
    return out, absent
