"""A training run's one-page ``report.html``, from what its work dir holds.

Reads, never recomputes a model: the saved config, the logged scalars
(curves), ``done.json`` / ``wall_time.json`` (grid runs), the
``analysis/`` folder, the calibration beside the best checkpoint and the
predictions file. A part whose files are absent is shown as missing, with
the command that makes it. The layout is ``run_report.html.j2``.
"""
import glob
import json
import os
import os.path as osp
from collections import Counter
from datetime import datetime, timezone

import mmpretrain
from mmengine.config import Config

from custom_modules.evaluation.calibration_file import read_calibration
from custom_modules.evaluation.predictions import load_predictions
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import atomic_write
from custom_modules.utils.html_page import markdown_html, render

from . import curves, lr_curve
from .precision import cpu_name
from .preflight import read_annotations, under_root
from .run_logs import best_checkpoint, log_folders, read_log_entries, summarize_run

# The keys of mmengine's "System environment" log block worth showing.
ENV_KEYS = ('sys.platform', 'Python', 'CUDA available', 'GPU 0', 'PyTorch',
            'TorchVision', 'OpenCV', 'MMEngine')
# Key numbers shown when known: (summary key, label, format).
OPTIONAL_NUMBERS = (('macro_f1', 'val macro F1', '{:.2f} %'),
                    ('train_acc', 'train accuracy (test pipeline)', '{:.2f} %'),
                    ('wall_time_s', 'training wall time', '{:.0f} s'),
                    ('img_per_s', 'training images/s', '{:.1f}'))


def read_json(path):
    if not osp.isfile(path):
        return None
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def find_predictions(run_dir, done, given=None):
    """``(predictions file, split)``: ``given``, the grid's, the run's
    ``test_predictions.json`` or ``val_predictions.json``, or ``(None,
    None)``."""
    if given:
        return given, 'val' if 'val' in osp.basename(given) else 'test'
    if done.get('predictions') and osp.isfile(done['predictions']):
        return done['predictions'], done['split']
    for split in ('test', 'val'):
        path = osp.join(run_dir, f'{split}_predictions.json')
        if osp.isfile(path):
            return path, split
    return None, None


def key_numbers(run_dir, done, predictions, split):
    """``[(label, value)]``: done.json's numbers (grid runs), else the logs'."""
    summary = {**summarize_run(run_dir), **done}
    wall = (read_json(osp.join(run_dir, 'wall_time.json')) or {}).get('seconds')
    summary['wall_time_s'] = wall or summary.get('wall_time_s')
    numbers = [('val accuracy (best epoch)', f'{summary["val_acc"]:.2f} %'),
               ('best epoch', f'{summary["best_epoch"]} of {summary["epochs"]}')]
    if predictions and split != 'val':  # val's accuracy is the first
        scores, labels, _ = load_predictions(predictions)
        accuracy = 100 * float((scores.argmax(1) == labels).float().mean())
        numbers.insert(0, (f'{split} accuracy (best checkpoint, {len(labels)} '
                           'images)', f'{accuracy:.2f} %'))
    return numbers + [(label, form.format(summary[key]))
                      for key, label, form in OPTIONAL_NUMBERS
                      if summary.get(key) is not None]


def data_counts(cfg):
    """Images per class in each split's annotation file: ``{'root',
    'header', 'rows'}`` (no rows without annotation files)."""
    root = cfg.train_dataloader.dataset.get('data_root', '')
    counts = {}
    for split in ('train', 'val', 'test'):
        path = under_root(root, f'{split}.txt')
        if osp.isfile(path):
            counts[split] = Counter(label for _, _, label in
                                    read_annotations(path))
    if not counts:
        return {'root': root, 'header': [], 'rows': []}
    classes = under_root(root, 'classes.txt')
    if osp.isfile(classes):
        with open(classes, encoding='utf-8') as f:
            names = [line.strip() for line in f if line.strip()]
    else:
        names = [str(i) for i in range(1 + max(max(c) for c in counts.values()))]
    rows = [[name, *(c[i] for c in counts.values())]
            for i, name in enumerate(names)]
    rows.append(['total', *(sum(c.values()) for c in counts.values())])
    return {'root': root, 'header': ['class', *counts], 'rows': rows}


def lr_figure(run_dir, cfg):
    """The schedule the config defines (simulated), with the learning rates
    the run logged on top: they should lie on the line."""
    length = lr_curve.epoch_length_of(cfg) or lr_curve.REAL_EPOCH_LENGTH
    fig = lr_curve.plot(lr_curve.simulate_lr(cfg, length), cfg,
                        f'learning rate ({length} iterations / epoch)')
    train, _ = read_log_entries(run_dir)
    # ``step`` counts iterations from 1; the rate is the one it ran with.
    logged = [((e['step'] - 1) / length, e['lr']) for e in train if 'lr' in e]
    if logged:
        fig.axes[0].scatter(*zip(*logged), s=12, color='tab:red', zorder=3,
                            label='logged')
        fig.axes[0].legend()
    return fig


def calibration_rows(calibration, done):
    """The calibration fitted on val (and the grid's test ECE) as rows."""
    val = calibration['val']
    threshold = calibration['threshold']
    rows = [['temperature', f'{calibration["temperature"]:.3f}'],
            ['reject threshold (max probability)',
             '-' if threshold is None else f'{threshold:.3f}']]
    rows += [[f'val {key.upper()} before -> after scaling',
              f'{val["before"][key]:.3f} -> {val["after"][key]:.3f}']
             for key in ('ece', 'nll', 'brier')]
    if 'coverage' in val:
        rows.append(['answered share of val / accuracy on it',
                     f'{val["coverage"]:.1f} % / {val["selective_acc"]:.2f} %'])
    if done.get('test_ece') is not None:
        rows.append(['test ECE before -> after scaling',
                     f'{done["test_ece"]:.3f} -> {done["test_ece_scaled"]:.3f}'])
    return rows


def environment_rows(first_log):
    """What the run trained with (mmengine's log header) and what built
    this page."""
    rows = []
    if osp.isfile(first_log):
        with open(first_log, encoding='utf-8', errors='replace') as f:
            for line in f:
                if line.startswith('Runtime environment'):
                    break
                key, _, value = line.strip().partition(': ')
                if key in ENV_KEYS:
                    rows.append([f'{key} (training log)', value])
    return rows + [['MMPretrain (report time)', mmpretrain.__version__],
                   ['CPU (report time)', cpu_name()],
                   ['CPU cores (report time)', str(os.cpu_count())]]


def build_run_report(run_dir, predictions=None, analysis=None):
    """The page of the run in ``run_dir``.

    Args:
        run_dir (str): a tools/train.py or run_grid.py work dir.
        predictions (str, optional): a tools/test.py ``--out`` file
            (default: the run's test, else val predictions).
        analysis (str, optional): the analysis plots' folder (default
            ``<run_dir>/analysis``).

    Returns:
        tuple: the HTML and ``[(missing part, command that makes it)]``.
    """
    folders = log_folders(run_dir)
    if not folders:
        raise UserInputError(
            f'{run_dir} has no */vis_data/scalars.json: it is not a work dir '
            'of tools/train.py (or run_grid.py) that trained.')
    dumped = sorted(glob.glob(osp.join(run_dir, '*.py')))
    config = dumped[0] if dumped else osp.join(folders[-1], 'vis_data',
                                               'config.py')
    cfg = Config.fromfile(config)
    with open(config, encoding='utf-8') as f:
        config_text = f.read()
    done = read_json(osp.join(run_dir, 'done.json')) or {}
    try:
        checkpoint = best_checkpoint(run_dir)
    except UserInputError:
        checkpoint = None
    predictions, split = find_predictions(run_dir, done, predictions)
    analysis = analysis or osp.join(run_dir, 'analysis')
    calibration = read_calibration(checkpoint) if checkpoint else None

    plots = {name: osp.join(analysis, name) for name in (
        'training_curves.png', 'confusion_matrix.png', 'misclassified.png',
        'cams.png')}
    for key, name in (('reliability', 'reliability_val.png'),
                      ('risk_coverage', 'risk_coverage_val.png')):
        path = ((calibration or {}).get('plots') or {}).get(key)
        plots[name] = (path if path and osp.isfile(path) else
                       osp.join(run_dir, 'calibration', name))
    plots = {k: v if osp.isfile(v) else None for k, v in plots.items()}
    per_class = osp.join(analysis, 'per_class.md')
    if osp.isfile(per_class):
        with open(per_class, encoding='utf-8') as f:
            per_class = markdown_html(f.read())
    else:
        per_class = None

    def command(tool, *args):
        return ' '.join(['python', f'tools/{tool}', config,
                         checkpoint or 'CHECKPOINT', *args])

    preds = predictions or osp.join(run_dir, 'test_predictions.json')
    data = data_counts(cfg)
    commands = {
        'test': command('test.py', '--out', preds),
        'annotate': 'python tools/dataset/make_annotations.py PHOTO_FOLDER '
                    f'--out-dir {data["root"]}',
        'analyze': ('' if predictions else command('test.py', '--out', preds)
                    + ' && ') + 'python tools/analysis/analyze_predictions.py '
                   f'{preds} --classes DATA_ROOT/classes.txt --out-dir '
                   f'{analysis}',
        'calibrate': command('analysis/calibrate.py'),
        'cams': command('visualization/vis_cam.py', '--preds', preds, '--out',
                        osp.join(analysis, 'cams.png'))}
    name = osp.basename(osp.normpath(run_dir))
    if done.get('seed') is not None:
        name = f'{osp.basename(osp.dirname(osp.normpath(run_dir)))} {name}'
    absent = []
    text = render(
        'run_report.html.j2', absent, title=f'Run report: {name}',
        run_dir=osp.abspath(run_dir), checkpoint=checkpoint,
        built=datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
        numbers=key_numbers(run_dir, done, predictions, split),
        predictions=predictions, split=split, data=data, commands=commands,
        curves=plots['training_curves.png'] or curves.plot(
            curves.read_scalars(run_dir), name.split()[-1]),
        lr=lr_figure(run_dir, cfg), per_class=per_class, plots=plots,
        calibration=calibration and calibration_rows(calibration, done),
        environment=environment_rows(
            osp.join(folders[0], osp.basename(folders[0]) + '.log')),
        config=config, config_text=config_text)
    return text, absent


def write_run_report(run_dir, out=None, predictions=None, force=False,
                     analysis=None):
    """Write ``<run_dir>/report.html`` (or ``out``) atomically.

    Returns:
        tuple: its path and ``[(missing part, command that makes it)]``.
    """
    out = out or osp.join(run_dir, 'report.html')
    text, absent = build_run_report(run_dir, predictions, analysis)
    atomic_write(out, lambda f: f.write(text), force=force)
    return out, absent
