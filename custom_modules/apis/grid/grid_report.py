"""The grid's one-page ``report.html`` (``grid_report.html.j2``): its runs, linked
to their pages, its chart (results.png), its results.md."""
import glob
import os.path as osp

import mmengine

from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import atomic_write
from custom_modules.utils.html_page import markdown_html, render


def finished_runs(work_dir):
    """``[(run dir, done.json record)]`` of the grid's finished runs
    (``<config>/`` or ``<config>/seed<k>/``)."""
    return [(osp.dirname(path), mmengine.load(path))
            for pattern in ('*/done.json', '*/seed*/done.json')
            for path in sorted(glob.glob(osp.join(work_dir, pattern)))]


def write_grid_report(work_dir, out=None, force=False):
    """Write ``<work_dir>/report.html`` (or ``out``) atomically.

    Returns:
        tuple: its path and ``[(missing part, command that makes it)]``.
    """
    results = osp.join(work_dir, 'results.md')
    if not osp.isfile(results):
        raise UserInputError(
            f'{work_dir} has no results.md: it is not a work dir of tools/run_grid.py, '
            'or the grid has not finished a pass (run python tools/run_grid.py '
            f'--work-dir {work_dir} again: finished runs are skipped).')
    runs = [{'record': record, 'name': osp.relpath(run_dir, work_dir),
             'has_page': osp.isfile(osp.join(run_dir, 'report.html')),
             'command': f'python tools/analysis/make_report.py {run_dir}'}
            for run_dir, record in finished_runs(work_dir)]
    chart = osp.join(work_dir, 'results.png')
    absent = []
    text = render('grid_report.html.j2', absent, title='Grid report',
                  work_dir=osp.abspath(work_dir), runs=runs,
                  results=markdown_html(mmengine.get_text(results)),
                  chart=osp.isfile(chart) and chart)
    absent += [(f'{run["name"]}/report.html', run['command'])
               for run in runs if not run['has_page']]
    out = out or osp.join(work_dir, 'report.html')
    atomic_write(out, lambda f: f.write(text), force=force)
    return out, absent
