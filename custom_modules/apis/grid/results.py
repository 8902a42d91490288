"""Results of the grid's runs: a Markdown table, a CSV, a chart and the
one-page ``report.html`` (``grid_report.html.j2``) linking the runs' pages."""
import csv
import glob
import os.path as osp
import statistics

import mmengine
from jinja2 import Environment, FileSystemLoader
from matplotlib.figure import Figure

from custom_modules.evaluation.significance import (
    correctness,
    seeds_markdown,
    significance_markdown,
)
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import atomic_write, csv_safe_row, save_figure
from custom_modules.utils.html_page import markdown_html, render

from ..robustness import SHORT_SEVERITIES, SHORT_SHIFTS
from .runner import MODEL_NAMES

CORRUPTED = 'Mean corrupted acc. (%)'

METRICS = ['train_acc', 'val_acc', 'best_epoch', 'macro_f1', 'wall_time_s',
           'img_per_s', 'test_acc', 'mean_corrupted_acc', 'val_ece',
           'val_ece_scaled', 'test_ece', 'test_ece_scaled']
COLUMNS = ['model', 'frozen_stages', 'augmentation', 'precision',
           'train_images', *METRICS, 'stopped']
# No autoescape: these templates write Markdown (results.md), not HTML;
# the HTML pages (utils/html_page) autoescape, results.md's cells too.
TEMPLATES = Environment(  # nosec B701 (Markdown output, see above)
    loader=FileSystemLoader(osp.dirname(__file__)), trim_blocks=True,
    lstrip_blocks=True, keep_trailing_newline=True)


def mean_std(values):
    """Mean and sample standard deviation (None where undefined)."""
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return (statistics.fmean(values),
            statistics.stdev(values) if len(values) > 1 else None)


def per_seed(runs, key):
    """The runs' ``key`` texts, each after its seed when it has one."""
    return '; '.join(('' if r['seed'] is None else f'seed {r["seed"]}: ') +
                     r[key] for r in runs if r.get(key))


def aggregate(records):
    """One row per config: mean and sample std over its seeds."""
    by_config = {}
    for r in records:
        by_config.setdefault(r['config'], []).append(r)
    rows = []
    for runs in by_config.values():
        row = {k: runs[0].get(k) for k in ('config', 'model', 'frozen_stages',
                                           'augmentation', 'train_images')}
        row['precision'] = ', '.join(dict.fromkeys(
            r['precision'] for r in runs if r.get('precision'))) or None
        done = [r for r in runs if not r.get('failed')]
        row['seeds'] = len(runs)
        for key in METRICS:
            row[key], row[f'{key}_std'] = mean_std([r.get(key) for r in done])
        row['stopped'] = '; '.join(
            r['stopped'] for r in done if r.get('stopped')) or None
        row['failed'] = per_seed(runs, 'failed')
        row['shift_failed'] = per_seed(done, 'shift_error')
        rows.append(row)
    return rows


def fmt(value, std=None, digits=2):
    if value is None:
        return '-'
    text = f'{value:.{digits}f}'
    return text + (f' ± {std:.{digits}f}' if std is not None else '')


def precisions(rows):
    """The precisions of the finished runs; several make a column."""
    return list(dict.fromkeys(r['precision'] or 'not recorded' for r in rows
                              if r['val_acc'] is not None))


def table_columns(rows):
    """(header, alignment, cell) of each column the rows have numbers for."""
    seeds = max(r['seeds'] for r in rows)
    ece = 'test_ece' if any(r.get('test_acc') is not None for r in rows) \
        else 'val_ece'
    ece_header = f'{ece[:-4].title()} ECE (%)'

    def number(key, digits=2):
        return lambda r: fmt(r.get(key), r.get(f'{key}_std'), digits)

    def corrupted(r):  # a failed benchmark says why; the run still counts
        parts = []
        if r['mean_corrupted_acc'] is not None:
            parts.append(number('mean_corrupted_acc')(r))
        if r['shift_failed']:
            parts.append(f'failed: {r["shift_failed"]}')
        return '; '.join(parts) or ('-' if r['val_acc'] is None else 'not run')

    columns = [
        ('Model', '---', lambda r: r['model']),
        ('Frozen stages', '---:', lambda r: r['frozen_stages']),
        ('Augmentation', '---', lambda r: r['augmentation']),
        ('Precision', '---', lambda r: r['precision'] or '-'),
        ('Train images', '---:', lambda r: fmt(r.get('train_images'),
                                               digits=0)),
        ('Train acc (%)', '---:', number('train_acc')),
        ('Val acc (%)', '---:', number('val_acc')),
        ('Test acc (%)', '---:', number('test_acc')),
        (CORRUPTED, '---:', corrupted),
        ('Best epoch', '---:', number('best_epoch', 0 if seeds == 1 else 1)),
        ('Macro F1 (%)', '---:', number('macro_f1')),
        (ece_header, '---:',
         lambda r: f'{number(ece)(r)} -> {number(f"{ece}_scaled")(r)}'),
        ('Wall time (s)', '---:', number('wall_time_s', 0)),
        ('Images/s', '---:', number('img_per_s', 1)),
        ('Stopped at epoch', '---', lambda r: r['stopped'] or '-'),
        ('Failed runs (log)', '---', lambda r: r['failed'] or '-')]
    shown = {'Precision': len(precisions(rows)) > 1,
             'Test acc (%)': ece == 'test_ece',
             CORRUPTED: shift_benchmarked(rows),
             ece_header: any(r.get(ece) is not None for r in rows),
             'Stopped at epoch': any(r['stopped'] for r in rows),
             'Failed runs (log)': any(r['failed'] for r in rows)}
    return [c for c in columns if shown.get(c[0], True)]


def shift_benchmarked(rows):
    """Whether any run has a shift benchmark figure or failure."""
    return any(r['mean_corrupted_acc'] is not None or r['shift_failed']
               for r in rows)


def results_markdown(rows, significance=''):
    """``results.md``: the table, the best run, significance, definitions."""
    columns = table_columns(rows)
    done = [r for r in rows if r['val_acc'] is not None]
    return TEMPLATES.get_template('results.md.j2').render(
        rows=rows, seeds=max(r['seeds'] for r in rows),
        precisions=precisions(rows), align=[c[1] for c in columns],
        table=[[c[0] for c in columns],
               *([c[2](r) for c in columns] for r in rows)],
        best=max(done, key=lambda r: r['val_acc'], default=None),
        significance=significance, fmt=fmt, shifts=shift_benchmarked(rows)
        and dict(names=', '.join(SHORT_SHIFTS),
                 severity=', '.join(map(str, SHORT_SEVERITIES))))


def write_csv(rows, f):
    """``results.csv``: every column, with its std over seeds."""
    fields = ['config', 'seeds'] + [c for key in COLUMNS for c in (
        [key, f'{key}_std'] if key in METRICS else [key])] + [
            'failed', 'shift_failed']
    writer = csv.DictWriter(f, fieldnames=fields, extrasaction='ignore')
    writer.writeheader()
    writer.writerows(map(csv_safe_row, rows))


def label(r):
    return f'{r["model"]} f{r["frozen_stages"]} {r["augmentation"]}'


def results_chart(rows):
    """Val and train accuracy of each configuration, and its mean corrupted
    accuracy when the runs have one, as bars."""
    rows = [r for r in rows if r['val_acc'] is not None]  # failed: no bar
    ys = range(len(rows))

    def errors(key):  # error bars only where several seeds give a std
        stds = [r[f'{key}_std'] for r in rows]
        return [s or 0 for s in stds] if any(stds) else None

    # (key, label, colour, alpha, value printed), bottom bar first
    bars = [('val_acc', 'val', 'tab:blue', 1, True),
            ('train_acc', 'train (test pipeline)', 'tab:orange', 0.6, False)]
    if shift_benchmarked(rows):
        bars.insert(0, ('mean_corrupted_acc', f'mean under {len(SHORT_SHIFTS)}'
                        ' shifts (see results.md)', 'tab:red', 0.6, True))
    height = 0.8 / len(bars)
    fig = Figure(figsize=(8, 0.225 * len(bars) * len(rows) + 1.5))
    ax = fig.subplots()
    for i, (key, name, color, alpha, printed) in enumerate(bars):
        at = [y + ((len(bars) - 1) / 2 - i) * height for y in ys]
        values = [r[key] or 0 for r in rows]
        ax.barh(at, values, height=height, xerr=errors(key), capsize=3,
                label=name, color=color, alpha=alpha)
        for y, value, r in zip(at, values, rows):
            if printed and r[key] is not None:
                ax.text(value + 0.5, y, f'{value:.1f}', va='center', fontsize=8)
    ax.set_yticks(list(ys), [label(r) for r in rows])
    ax.invert_yaxis()
    ax.set(xlabel='top-1 accuracy (%)', xlim=(0, 105),
           title='Accuracy per configuration (best epoch)')
    ax.legend(loc='lower right', fontsize=8)
    ax.grid(axis='x', alpha=0.3)
    return fig


def significance_section(records, rows):
    """McNemar's test between every two configurations (their first seed's
    best checkpoint), when the runs were analysed."""
    first = {r['config']: r for r in sorted(  # the lowest seed comes last
        records, key=lambda r: r.get('seed') or 0, reverse=True)
        if r.get('predictions')}
    ordered = [first[row['config']] for row in rows
               if row['config'] in first]
    if len(ordered) < 2:
        return ''
    labels = [label(r) for r in ordered]
    runs = [(label(r), correctness(r['predictions'])) for r in ordered]
    text = significance_markdown(labels, runs, ordered[0]['split'])
    if len({r['config'] for r in records}) < len(records):
        text += ('With several seeds, each configuration is represented by '
                 'its lowest seed here; the table\'s ± shows the spread '
                 'over seeds.\n\n')
        key = 'test_acc' if ordered[0]['split'] == 'test' else 'val_acc'
        accuracies = [{r.get('seed'): r[key] for r in records
                       if r['config'] == o['config'] and r.get(key)
                       is not None} for o in ordered]
        text += seeds_markdown(labels, accuracies, key.replace('_', ' '))
    return text


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


def write_results(work_dir, records):
    """Write results.md, .csv, .png and report.html into ``work_dir``.

    Args:
        work_dir (str): The grid's work dir.
        records (list[dict]): The runs' ``done.json`` records.

    Returns:
        tuple: ({file name: path}, one row per configuration).
    """
    rows = aggregate(records)
    order = {c: i for i, c in enumerate(MODEL_NAMES.values())}
    rows.sort(key=lambda r: (order.get(r['model'], 99), r['frozen_stages'],
                             r['augmentation'], r['config']))
    paths = {name: osp.join(work_dir, name) for name in (
        'results.md', 'results.csv', 'results.png')}
    text = results_markdown(rows, significance_section(records, rows))
    atomic_write(paths['results.md'], lambda f: f.write(text), force=True)
    atomic_write(paths['results.csv'], lambda f: write_csv(rows, f),
                 force=True)
    save_figure(results_chart(rows), paths['results.png'], force=True)
    paths['report.html'], _ = write_grid_report(work_dir, force=True)
    return paths, rows
