"""A training run's one-page ``report.html`` (``run_report.html.j2``), from
what its work dir holds; it never runs a model."""
import glob
import os
import os.path as osp
import re
from collections import Counter
from datetime import datetime, timezone
from itertools import takewhile

import mmengine
import mmpretrain

from custom_modules.evaluation.calibration import (
    apply_temperature,
    expected_calibration_error,
    read_calibration,
)
from custom_modules.evaluation.predictions import (
    load_predictions,
    predictions_match,
)
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import atomic_write, read_classes
from custom_modules.utils.html_page import markdown_html, render

from . import curves, lr_curve
from .precision import cpu_name
from .preflight import read_annotations, under_root
from .run_logs import (
    best_checkpoint,
    log_folders,
    read_log_entries,
    run_config,
    summarize_run,
)

# An absolute path of two or more parts (not inside a word, URL or base64).
ABS_PATH = re.compile(r'(?<![\w.:/+=-])/(?:[\w.@+-]+/)+[\w.@+-]*')
ENV_KEYS = ('sys.platform', 'Python', 'CUDA available', 'GPU 0', 'PyTorch',
            'TorchVision', 'OpenCV', 'MMEngine')


def first_file(*paths):
    """The first of ``paths`` that is a file, or None."""
    return next((p for p in paths if p and osp.isfile(p)), None)


def find_predictions(run_dir, done, given=None):
    """``(predictions file, split)``: ``given``, the grid's, the run's
    test or val predictions, or ``(None, None)``."""
    if given:
        return given, 'val' if 'val' in osp.basename(given) else 'test'
    found = [(done.get('predictions'), done.get('split'))] + [
        (osp.join(run_dir, f'{split}_predictions.json'), split)
        for split in ('test', 'val')]
    return next(((p, s) for p, s in found if first_file(p)), (None, None))


def relative_paths(text, run_dir):
    """``text`` with this machine's absolute paths relative to ``run_dir``
    (or ``~/...`` for the home folder's when the run is outside it)."""
    base, home = osp.abspath(run_dir), osp.expanduser('~')

    def under(path, folder):
        return folder != '/' and osp.commonpath([path, folder]) == folder

    def relative(match):
        path = match.group(0)
        if not osp.isdir('/' + path.split('/')[1]):
            return path
        if under(path, home) and not under(base, home):
            return '~/' + osp.relpath(path, home)
        return osp.relpath(path, base)

    return ABS_PATH.sub(relative, text)


def one_sentence(cfg, summary, tested, split, calibration):
    """What the run shows, in one sentence."""
    model_cfg = (cfg or {}).get('model') or {}
    backbone = model_cfg.get('backbone') or {}
    model = backbone.get('type', model_cfg.get('type', 'the model'))
    size = backbone.get('arch') or backbone.get('depth')
    text = (f'{model}{"-" + str(size) if size else ""} trained '
            f'{summary.get("epochs", "?")} epoch(s); its best epoch '
            f'({summary.get("best_epoch", "?")}) reached '
            f'{summary.get("val_acc", float("nan")):.2f} % on val')
    if tested:
        text += (f' and {tested["accuracy"]:.2f} % on the {tested["images"]} '
                 f'{split} images (ECE {tested["ece"]:.2f} %')
        text += (f', {tested["ece_scaled"]:.2f} % after temperature scaling)'
                 if tested['ece_scaled'] is not None else ')')
    if calibration and calibration.get('threshold') is not None:
        coverage = (calibration.get('val') or {}).get('coverage')
        text += ('; it answers "unknown" where the '
                 f'{calibration.get("score", "max_softmax")} reject score is '
                 f'below {calibration["threshold"]:.2f}'
                 + (f' ({coverage:.0f} % of val answered)'
                    if coverage is not None else ''))
    return text + '.'


def prediction_figures(predictions, temperature=None):
    """A predictions file's ``images`` and its ``accuracy``, ``ece`` and
    ``ece_scaled`` (%; None without a ``temperature``)."""
    scores, labels, _ = load_predictions(predictions)
    probs, labels = scores.float().numpy(), labels.numpy()
    return {
        'images': len(labels),
        'accuracy': 100 * float((probs.argmax(1) == labels).mean()),
        'ece': 100 * expected_calibration_error(probs, labels),
        'ece_scaled': None if temperature is None else 100 *
        expected_calibration_error(apply_temperature(probs, temperature),
                                   labels)}


def data_counts(root):
    """``(class names, {split: Counter of labels})`` of the annotation files
    under ``root``; None without any."""
    paths = {split: under_root(root, f'{split}.txt')
             for split in ('train', 'val', 'test')}
    counts = {split: Counter(label for _, _, label in read_annotations(path))
              for split, path in paths.items() if osp.isfile(path)}
    if not counts:
        return None
    classes = under_root(root, 'classes.txt')
    if osp.isfile(classes):
        return read_classes(classes), counts
    return [str(i) for i in range(1 + max(max(c) for c in counts.values()))], counts


def lr_figure(run_dir, cfg):
    """The config's simulated schedule with the logged rates on top."""
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


def environment_rows(first_log):
    """What the run trained with (its log's ``ENV_KEYS``) and built this."""
    pairs = []
    if osp.isfile(first_log):
        with open(first_log, encoding='utf-8', errors='replace') as f:
            pairs = [line.strip().partition(': ')[::2] for line in takewhile(
                lambda line: not line.startswith('Runtime environment'), f)]
    return [[f'{key} (training log)', value] for key, value in pairs
            if key in ENV_KEYS] + [
        ['MMPretrain (report time)', mmpretrain.__version__],
        ['CPU (report time)', cpu_name()],
        ['CPU cores (report time)', str(os.cpu_count())]]


def write_run_report(run_dir, out=None, predictions=None, force=False,
                     analysis=None):
    """Write ``out`` (default ``<run_dir>/report.html``) atomically.

    Args:
        run_dir (str): a tools/train.py or run_grid.py work dir.
        predictions (str, optional): a tools/test.py ``--out`` file.
        analysis (str, optional): the plots' folder.

    Returns:
        tuple: ``out`` and ``[(missing part, command that makes it)]``.
    """
    folders = log_folders(run_dir)
    if not folders:
        raise UserInputError(
            f'{run_dir} has no */vis_data/scalars.json: it is not a work dir '
            'of tools/train.py (or run_grid.py) that trained.')
    config = (sorted(glob.glob(osp.join(run_dir, '*.py'))) or [
        osp.join(folders[-1], 'vis_data', 'config.py')])[0]
    cfg = run_config(run_dir)
    done = first_file(osp.join(run_dir, 'done.json'))
    done = mmengine.load(done) if done else {}
    try:
        checkpoint = best_checkpoint(run_dir)
    except UserInputError:
        checkpoint = None
    predictions, split = find_predictions(run_dir, done, predictions)
    if predictions and checkpoint and not predictions_match(predictions,
                                                            checkpoint):
        predictions, split = None, None  # another checkpoint's: not shown
    analysis = analysis or osp.join(run_dir, 'analysis')
    calibration = read_calibration(checkpoint) if checkpoint else None
    drawn = (calibration or {}).get('plots') or {}
    plots = {name: first_file(osp.join(analysis, name)) for name in (
        'training_curves.png', 'per_class.md', 'confusion_matrix.png',
        'misclassified.png', 'cams.png')}
    for key, name in (('reliability', 'reliability_val.png'),
                      ('risk_coverage', 'risk_coverage_val.png')):
        plots[name] = first_file(drawn.get(key),
                                 osp.join(run_dir, 'calibration', name))
    shifts = first_file(osp.join(run_dir, 'robustness', 'results.md'))
    plots['accuracy_vs_severity.png'] = first_file(
        osp.join(run_dir, 'robustness', 'accuracy_vs_severity.png'))
    summary = {**summarize_run(run_dir), **done}  # done.json's, else the logs'
    wall = first_file(osp.join(run_dir, 'wall_time.json'))
    if wall:
        summary['wall_time_s'] = (mmengine.load(wall).get('seconds')
                                  or summary.get('wall_time_s'))
    tested = None  # val's accuracy is in summary
    if predictions and split != 'val':
        tested = prediction_figures(predictions,
                                    (calibration or {}).get('temperature'))
    root = cfg.train_dataloader.dataset.get('data_root', '') if cfg else ''
    name = osp.basename(osp.normpath(run_dir))
    title = name if done.get('seed') is None else \
        f'{osp.basename(osp.dirname(osp.normpath(run_dir)))} {name}'

    def command(tool, *args):
        return ' '.join(['python', f'tools/{tool}', config,
                         checkpoint or 'CHECKPOINT', *args])

    absent = []
    text = render(
        'run_report.html.j2', absent, title=f'Run report: {title}',
        run_dir=name, checkpoint=checkpoint,
        sentence=one_sentence(cfg, summary, tested, split, calibration),
        built=datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
        summary=summary, tested=tested, predictions=predictions, split=split,
        preds=predictions or osp.join(run_dir, 'test_predictions.json'),
        command=command, analysis=analysis, data_root=root,
        data_counts=data_counts(root) if cfg else None, plots=plots,
        curves=plots['training_curves.png'] or curves.plot(
            curves.read_scalars(run_dir), name),
        lr=lr_figure(run_dir, cfg) if cfg else None,
        calibration=calibration, robustness=shifts and markdown_html(
            mmengine.get_text(shifts).split('\n', 1)[1]),
        per_class=plots['per_class.md'] and markdown_html(
            mmengine.get_text(plots['per_class.md'])),
        environment=environment_rows(
            osp.join(folders[0], osp.basename(folders[0]) + '.log')),
        config=config, config_text=(mmengine.get_text(config)
                                    if osp.isfile(config) else ''))
    text = relative_paths(text, run_dir)
    out = out or osp.join(run_dir, 'report.html')
    atomic_write(out, lambda f: f.write(text), force=force)
    return out, absent
