"""A training run's one-page ``report.html``, from what its work dir holds.

Reads, never recomputes a model: the saved config, the logged scalars
(curves), ``done.json`` / ``wall_time.json`` (grid runs), the
``analysis/`` folder, the calibration beside the best checkpoint and the
predictions file. A part whose files are absent is shown as missing, with
the command that makes it; :func:`build_run_report` returns that list too.
"""
import glob
import json
import os
import os.path as osp
from collections import Counter
from datetime import datetime, timezone

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from custom_modules.evaluation.calibration import read_calibration  # noqa: E402
from custom_modules.evaluation.predictions import load_predictions  # noqa: E402
from custom_modules.utils.errors import UserInputError  # noqa: E402
from custom_modules.utils.fileio import atomic_write  # noqa: E402
from custom_modules.utils.html_page import (  # noqa: E402
    cards,
    esc,
    figure_png,
    image,
    image_file,
    markdown_html,
    missing,
    page,
    table,
)

from . import curves, lr_curve  # noqa: E402
from .precision import cpu_name  # noqa: E402
from .preflight import read_annotations, under_root  # noqa: E402
from .run_logs import (  # noqa: E402
    best_checkpoint,
    log_folders,
    read_log_entries,
    summarize_run,
)

SPLITS = ('train', 'val', 'test')
# The keys of mmengine's "System environment" log block worth showing.
ENV_KEYS = ('sys.platform', 'Python', 'CUDA available', 'GPU 0', 'PyTorch',
            'TorchVision', 'OpenCV', 'MMEngine')


class RunFiles:
    """Where a run's inputs to the report are, and what it logged."""

    def __init__(self, run_dir, predictions=None, analysis=None):
        self.dir = run_dir
        folders = log_folders(run_dir)
        if not folders:
            raise UserInputError(
                f'{run_dir} has no */vis_data/scalars.json: it is not a work '
                'dir of tools/train.py (or run_grid.py) that trained.')
        self.first_log = osp.join(folders[0], osp.basename(folders[0]) +
                                  '.log')
        dumped = sorted(glob.glob(osp.join(run_dir, '*.py')))
        self.config = (dumped[0] if dumped else
                       osp.join(folders[-1], 'vis_data', 'config.py'))
        self.done = self._json('done.json') or {}
        self.wall_time = (self._json('wall_time.json') or {}).get('seconds')
        try:
            self.checkpoint = best_checkpoint(run_dir)
        except UserInputError:
            self.checkpoint = None
        self.predictions, self.split = self._predictions(predictions)
        self.analysis = analysis or osp.join(run_dir, 'analysis')
        self.absent = []  # (part, command) the page shows as missing

    def missing(self, what, command=None):
        self.absent.append((what, command))
        return missing(what, command)

    def _json(self, name):
        path = osp.join(self.dir, name)
        if not osp.isfile(path):
            return None
        with open(path, encoding='utf-8') as f:
            return json.load(f)

    def _predictions(self, given):
        if given:
            return given, 'val' if 'val' in osp.basename(given) else 'test'
        if self.done.get('predictions') and osp.isfile(
                self.done['predictions']):
            return self.done['predictions'], self.done['split']
        for split in ('test', 'val'):
            path = osp.join(self.dir, f'{split}_predictions.json')
            if osp.isfile(path):
                return path, split
        return None, None

    def command(self, tool, *args):
        return ' '.join(['python', f'tools/{tool}', self.config,
                         self.checkpoint or 'CHECKPOINT', *args])


def load_run_config(files):
    from mmengine.config import Config
    return Config.fromfile(files.config)


def metrics_section(files):
    """Key numbers: done.json's for grid runs, else from the logs."""
    summary = {**summarize_run(files.dir), **files.done}
    items = [('val accuracy (best epoch)', f'{summary["val_acc"]:.2f} %'),
             ('best epoch', f'{summary["best_epoch"]} of '
              f'{summary["epochs"]}')]
    if summary.get('macro_f1') is not None:
        items.append(('val macro F1', f'{summary["macro_f1"]:.2f} %'))
    if summary.get('train_acc') is not None:
        items.append(('train accuracy (test pipeline)',
                      f'{summary["train_acc"]:.2f} %'))
    notes = []
    if files.predictions and files.split != 'val':  # val: as above
        scores, labels, _ = load_predictions(files.predictions)
        accuracy = 100 * float((scores.argmax(1) == labels).float().mean())
        items.insert(0, (f'{files.split} accuracy (best checkpoint, '
                         f'{len(labels)} images)', f'{accuracy:.2f} %'))
    elif not files.predictions:
        notes.append(files.missing(
            'No test predictions',
            files.command('test.py', '--out',
                          osp.join(files.dir, 'test_predictions.json'))))
    wall = files.wall_time or summary.get('wall_time_s')
    if wall:
        items.append(('training wall time', f'{wall:.0f} s'))
    if summary.get('img_per_s'):
        items.append(('training images/s', f'{summary["img_per_s"]:.1f}'))
    return cards(items) + ''.join(notes)


def data_section(files, cfg):
    """Images per class in each split's annotation file."""
    dataset = cfg.train_dataloader.dataset
    root = dataset.get('data_root', '')
    classes_file = under_root(root, 'classes.txt')
    counts = {}
    for split in SPLITS:
        path = under_root(root, f'{split}.txt')
        if osp.isfile(path):
            counts[split] = Counter(label for _, _, label in
                                    read_annotations(path))
    if not counts:
        return files.missing(f'No annotation files in {root}', 'python tools/'
                       'dataset/make_annotations.py PHOTO_FOLDER --out-dir '
                       f'{root}')
    if osp.isfile(classes_file):
        with open(classes_file, encoding='utf-8') as f:
            names = [line.strip() for line in f if line.strip()]
    else:
        names = [str(i) for i in range(1 + max(
            max(c) for c in counts.values()))]
    header = ['class', *counts]
    rows = [[name, *(counts[s][i] for s in counts)]
            for i, name in enumerate(names)]
    rows.append(['total', *(sum(c.values()) for c in counts.values())])
    return (f'<p>Annotation files in <code>{esc(root)}</code>.</p>' +
            table(header, rows))


def curves_section(files):
    path = osp.join(files.analysis, 'training_curves.png')
    if osp.isfile(path):
        return image_file(path, 'training curves')
    fig = curves.plot(curves.read_scalars(files.dir),
                      osp.basename(osp.normpath(files.dir)))
    data = figure_png(fig)
    plt.close(fig)
    return image(data, 'training curves')


def lr_section(files, cfg):
    """The schedule the config defines (simulated), with the learning rates
    the run logged on top: they should lie on the line."""
    length = lr_curve.epoch_length_of(cfg) or lr_curve.REAL_EPOCH_LENGTH
    points = lr_curve.simulate_lr(cfg, length)
    fig = lr_curve.plot(points, cfg, f'learning rate ({length} iterations '
                        '/ epoch)')
    train, _ = read_log_entries(files.dir)
    # ``step`` counts iterations from 1; the rate is the one it ran with.
    logged = [((e['step'] - 1) / length, e['lr']) for e in train
              if 'lr' in e]
    if logged:
        fig.axes[0].scatter(*zip(*logged), s=12, color='tab:red', zorder=3,
                            label='logged')
        fig.axes[0].legend()
    data = figure_png(fig)
    plt.close(fig)
    return image(data, 'learning-rate schedule')


def per_class_section(files):
    md = osp.join(files.analysis, 'per_class.md')
    if not osp.isfile(md):
        preds = files.predictions or osp.join(files.dir,
                                              'test_predictions.json')
        return files.missing(
            'No per-class table, confusion matrix or mistakes',
            ('' if files.predictions else files.command(
                'test.py', '--out', preds) + ' && ') +
            f'python tools/analysis/analyze_predictions.py {preds} '
            f'--classes DATA_ROOT/classes.txt --out-dir {files.analysis}')
    with open(md, encoding='utf-8') as f:
        body = markdown_html(f.read())
    split = f' ({files.split} split)' if files.split else ''
    for name, title in (('confusion_matrix.png', 'Confusion matrix'),
                        ('misclassified.png', 'Most confident mistakes')):
        path = osp.join(files.analysis, name)
        body += f'<h3>{title}{esc(split)}</h3>' + (
            image_file(path, name, half=name.startswith('confusion'))
            if osp.isfile(path) else
            files.missing(f'{name} not drawn'))
    return body


def calibration_section(files):
    calibration = read_calibration(files.checkpoint) \
        if files.checkpoint else None
    if not calibration:
        return files.missing('Not calibrated', files.command(
            'analysis/calibrate.py'))
    val = calibration['val']
    rows = [['temperature', f'{calibration["temperature"]:.3f}'],
            ['reject threshold (max probability)',
             '-' if calibration['threshold'] is None else
             f'{calibration["threshold"]:.3f}']]
    for key in ('ece', 'nll', 'brier'):
        rows.append([f'val {key.upper()} before -> after scaling',
                     f'{val["before"][key]:.3f} -> {val["after"][key]:.3f}'])
    if 'coverage' in val:
        rows.append(['answered share of val / accuracy on it',
                     f'{val["coverage"]:.1f} % / '
                     f'{val["selective_acc"]:.2f} %'])
    if files.done.get('test_ece') is not None:  # the grid measures it
        rows.append(['test ECE before -> after scaling',
                     f'{files.done["test_ece"]:.3f} -> '
                     f'{files.done["test_ece_scaled"]:.3f}'])
    body = table(['calibration (fitted on val)', 'value'], rows)
    plots = calibration.get('plots') or {}
    for key, name in (('reliability', 'reliability_val.png'),
                      ('risk_coverage', 'risk_coverage_val.png')):
        path = plots.get(key)
        if not (path and osp.isfile(path)):
            path = osp.join(files.dir, 'calibration', name)
        body += (image_file(path, name, half=True) if osp.isfile(path)
                 else files.missing(f'{name} not drawn'))
    return body


def cams_section(files):
    path = osp.join(files.analysis, 'cams.png')
    if osp.isfile(path):
        return ('<p>Where the model looked in its worst mistakes '
                '(class activation maps).</p>' + image_file(path, 'CAMs'))
    preds = files.predictions or osp.join(files.dir, 'test_predictions.json')
    return files.missing('Class activation maps not drawn', files.command(
        'visualization/vis_cam.py', '--preds', preds, '--out', path))


def environment_section(files):
    """What the run trained with (mmengine's log header) and what built
    this page."""
    rows = []
    if osp.isfile(files.first_log):
        with open(files.first_log, encoding='utf-8', errors='replace') as f:
            for line in f:
                if line.startswith('Runtime environment'):
                    break
                key, _, value = line.strip().partition(': ')
                if key in ENV_KEYS:
                    rows.append([f'{key} (training log)', value])
    import mmpretrain
    rows += [['MMPretrain (report time)', mmpretrain.__version__],
             ['CPU (report time)', cpu_name()],
             ['CPU cores (report time)', str(os.cpu_count())]]
    return table(['', 'value'], rows)


def config_section(files):
    with open(files.config, encoding='utf-8') as f:
        text = f.read()
    return (f'<details><summary><code>{esc(files.config)}</code> '
            f'({len(text.splitlines())} lines, as the run saved it)</summary>'
            f'<pre>{esc(text)}</pre></details>')


def build_run_report(run_dir, predictions=None, analysis=None):
    """``(html, [missing parts])`` for the run in ``run_dir``; its
    analysis plots from ``analysis`` (default ``<run_dir>/analysis``)."""
    files = RunFiles(run_dir, predictions, analysis)
    cfg = load_run_config(files)
    sections = [('Key numbers', metrics_section(files)),
                ('Data', data_section(files, cfg)),
                ('Training curves', curves_section(files)),
                ('Learning-rate schedule', lr_section(files, cfg)),
                ('Per-class metrics', per_class_section(files)),
                ('Calibration and the reject option',
                 calibration_section(files)),
                ('Class activation maps of the worst mistakes',
                 cams_section(files)),
                ('Environment', environment_section(files)),
                ('Config', config_section(files))]
    name = osp.basename(osp.normpath(run_dir))
    if files.done.get('seed') is not None:
        name = f'{osp.basename(osp.dirname(osp.normpath(run_dir)))} ' + name
    when = datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    intro = (f'<p>Run <code>{esc(osp.abspath(run_dir))}</code>; best '
             f'checkpoint <code>{esc(files.checkpoint or "none")}</code>; '
             f'page built {when}.</p>')
    body = intro + ''.join(f'<h2>{esc(title)}</h2>\n{html}\n'
                           for title, html in sections)
    return page(f'Run report: {name}', body), files.absent


def write_run_report(run_dir, out=None, predictions=None, force=False,
                     analysis=None):
    """Write ``<run_dir>/report.html`` (atomically); return ``(path,
    [missing parts])``."""
    out = out or osp.join(run_dir, 'report.html')
    text, absent = build_run_report(run_dir, predictions, analysis)
    atomic_write(out, lambda f: f.write(text), force=force)
    return out, absent
