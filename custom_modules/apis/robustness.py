"""The shift benchmark behind ``tools/analysis/robustness.py``: how a
checkpoint holds up on photos unlike its test split.

The model is built once; the test split (or a ``--data-folder``) is then
predicted clean and under each shift x severity of
:mod:`custom_modules.datasets.transforms.shifts`, inserted straight after
``LoadImageFromFile`` in the config's test pipeline. The shifts are seeded
per image, so the same checkpoint always gives the same table.
"""
import csv
import math
import os.path as osp
import time
from types import SimpleNamespace

import torch
from matplotlib.figure import Figure
from mmengine.dataset import Compose, pseudo_collate
from mmpretrain.registry import DATASETS, TRANSFORMS
from torch.utils.data import DataLoader

from custom_modules.datasets.transforms import SHIFTS, shift_transform
from custom_modules.evaluation.calibration import (
    apply_temperature,
    expected_calibration_error,
    read_calibration,
    selective_accuracy,
)
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import atomic_write, check_new, save_figure

from .config import load_config, set_data_root
from .data_folder import use_data_folder
from .model import load_model
from .preflight import check_data
from .testing import resolve_test_split

OUTPUTS = {'table': 'results.md', 'csv': 'results.csv',
           'plot': 'accuracy_vs_severity.png'}
COLUMNS = ('shift', 'severity', 'accuracy', 'ece', 'coverage',
           'answered_accuracy')


def with_shift(pipeline, transform):
    """``pipeline`` with ``transform`` after ``LoadImageFromFile``."""
    pipeline = list(pipeline)
    at = next((i + 1 for i, t in enumerate(pipeline)
               if t['type'] == 'LoadImageFromFile'), 0)
    return pipeline[:at] + [transform] + pipeline[at:]


@torch.no_grad()
def predict(model, dataset, pipeline, batch_size, num_workers=0):
    """Scores and labels of every image of ``dataset`` through
    ``pipeline`` (a list of transform configs).

    Returns:
        tuple[Tensor, Tensor]: ``(N, C)`` scores, ``(N,)`` labels.
    """
    dataset.pipeline = Compose([TRANSFORMS.build(t) for t in pipeline])
    loader = DataLoader(dataset, batch_size=batch_size,
                        num_workers=num_workers, collate_fn=pseudo_collate)
    scores, labels = [], []
    for batch in loader:
        for sample in model.test_step(batch):
            scores.append(sample.pred_score.cpu())
            labels.append(sample.gt_label.cpu())
    return torch.stack(scores), torch.cat(labels)


def shift_metrics(scores, labels, calibration=None):
    """Accuracy and ECE (%, of the temperature-scaled scores when
    ``calibration`` has a temperature), and the share answered and their
    accuracy (%) at its reject threshold (NaN without one)."""
    if calibration:
        scores = apply_temperature(scores, calibration['temperature'])
    accuracy = 100 * float((scores.argmax(1) == labels).double().mean())
    coverage = answered = math.nan
    threshold = (calibration or {}).get('threshold')
    if threshold is not None:
        coverage, answered = selective_accuracy(scores, labels, threshold)
        coverage, answered = 100 * coverage, 100 * answered
    return dict(accuracy=accuracy,
                ece=100 * expected_calibration_error(scores, labels),
                coverage=coverage, answered_accuracy=answered)


def point_at_test_data(cfg, checkpoint, data_folder=None, on_problem='stop'):
    """Point ``cfg``'s test dataloader at ``data_folder`` (annotated under
    ``cfg.work_dir``) or its test split; returns the annotation file."""
    if data_folder:
        args = SimpleNamespace(checkpoint=checkpoint, data_folder=data_folder,
                               on_problem=on_problem, out=None)
        use_data_folder(cfg, args)
        tested = args.tested
    else:
        tested = resolve_test_split(cfg)
    check_data(cfg, ('test', ))
    return tested


def fmt(value):
    return '-' if value is None or (isinstance(value, float) and
                                    math.isnan(value)) else f'{value:.1f}'


def table(rows):
    """The rows as a markdown table."""
    lines = ['| shift | severity | accuracy % | ECE % | answered % | '
             'accuracy of answered % |', '|---|---|---|---|---|---|']
    for row in rows:
        lines.append(f'| {row["shift"]} | {row["severity"] or "-"} | ' + ' | '
                     .join(fmt(row[k]) for k in COLUMNS[2:]) + ' |')
    return '\n'.join(lines)


def summarize(rows):
    """Clean accuracy, mean corrupted accuracy and the drop, in points."""
    clean = rows[0]['accuracy']
    shifted = [r['accuracy'] for r in rows[1:]]
    mean = sum(shifted) / len(shifted) if shifted else math.nan
    return dict(clean_accuracy=clean, mean_corrupted_accuracy=mean,
                drop=clean - mean)


def accuracy_figure(rows, severities):
    """Accuracy against severity, one line per shift, clean dashed."""
    fig = Figure(figsize=(8, 5))
    ax = fig.subplots()
    for i, name in enumerate(dict.fromkeys(r['shift'] for r in rows[1:])):
        # 10 colours in matplotlib's cycle: dash the lines after them
        ax.plot(severities, [r['accuracy'] for r in rows
                             if r['shift'] == name], marker='os^D'[i % 4],
                linestyle='-' if i < 10 else '--', label=name)
    ax.axhline(rows[0]['accuracy'], color='k', linestyle='--', label='clean')
    ax.set(xlabel='severity', ylabel='top-1 accuracy (%)', ylim=(0, 100),
           xticks=severities, title='Accuracy under shift')
    ax.grid(alpha=0.3)
    ax.legend(loc='center left', bbox_to_anchor=(1.01, 0.5), fontsize=8)
    return fig


def report(rows, summary, config, checkpoint, tested, calibration):
    """results.md: what was tested, the table and the summary."""
    if calibration:
        threshold = calibration['threshold']
        scores = (f'temperature {calibration["temperature"]:.4f}, reject '
                  'threshold ' + ('none' if threshold is None else
                                  f'{threshold:.4f}')
                  + '; accuracy and ECE of the scaled scores')
    else:
        scores = 'none (raw scores, no reject option)'
    return '\n'.join([
        f'# Robustness of {osp.basename(checkpoint)}', '',
        f'- config: {config}', f'- checkpoint: {checkpoint}',
        f'- tested: {tested}', f'- calibration: {scores}', '',
        table(rows), '',
        f'clean accuracy: {summary["clean_accuracy"]:.1f} %',
        f'mean corrupted accuracy: {summary["mean_corrupted_accuracy"]:.1f} '
        f'% (drop from clean: {summary["drop"]:.1f} points)', ''])


def write_csv(f, rows):
    writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator='\n')
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row[k] if k in ('shift', 'severity')
                         else f'{row[k]:.4f}' for k in COLUMNS})


def robustness(config, checkpoint, shifts=tuple(SHIFTS), severities=(1, 3, 5),
               out_dir=None, data_folder=None, data_root=None,
               cfg_options=None, batch_size=None, seed=0, calibration=True,
               device=None, force=False):
    """Benchmark ``checkpoint`` under shifts; print and write the table.

    Args:
        config (str): The checkpoint's config.
        checkpoint (str): The trained checkpoint.
        shifts (Sequence[str]): Names from
            :data:`~custom_modules.datasets.transforms.SHIFTS`.
        severities (Sequence[int]): Each 1 to 5.
        out_dir (str, optional): Where results.md, results.csv and the plot
            go (default: ``robustness/`` beside the checkpoint).
        data_folder (str, optional): A class-per-folder tree to test on
            instead of the test split.
        data_root (str, optional): The config's data root, replaced.
        cfg_options (dict, optional): ``--cfg-options`` overrides.
        batch_size (int, optional): Default: the test dataloader's.
        seed (int): Seeds the shifts' per-image draws.
        calibration (bool): Scale scores by the stored
            ``<checkpoint>.calibration.json`` and report its reject option.
        device (str, optional): Default: cuda when available, else cpu.
        force (bool): Replace existing outputs.

    Returns:
        dict: ``rows`` (clean first), the :func:`summarize` figures and
        ``outputs`` (the files written).
    """
    unknown = [s for s in shifts if s not in SHIFTS]
    if unknown or not shifts:
        raise UserInputError(f'--shifts {" ".join(unknown)}: choose from '
                             f'{" ".join(SHIFTS)}')
    if not severities or any(s not in range(1, 6) for s in severities):
        raise UserInputError(f'--severities {severities}: each 1 to 5.')
    if not osp.isfile(checkpoint):
        raise UserInputError(f'checkpoint {checkpoint} does not exist.')
    out_dir = out_dir or osp.join(osp.dirname(checkpoint), 'robustness')
    outputs = {k: osp.join(out_dir, name) for k, name in OUTPUTS.items()}
    for path in outputs.values():
        check_new(path, force)
    severities = sorted(set(severities))
    cfg = load_config(config, cfg_options)
    if data_root:
        set_data_root(cfg, data_root)
    cfg.work_dir = out_dir
    tested = point_at_test_data(cfg, checkpoint, data_folder)
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model = load_model(cfg, checkpoint, device=device)
    stored = read_calibration(checkpoint) if calibration else None
    loader = cfg.test_dataloader
    dataset = DATASETS.build(loader.dataset)
    batch_size = batch_size or loader.get('batch_size', 32)
    runs = [('clean', None)] + [(s, v) for s in shifts for v in severities]
    print(f'{len(runs)} passes over {tested}'
          + (f', calibration from {stored["path"]}' if stored else ''))
    rows, start = [], time.perf_counter()
    for name, severity in runs:
        pipeline = loader.dataset.pipeline
        if severity:
            pipeline = with_shift(pipeline,
                                  shift_transform(name, severity, seed))
        scores, labels = predict(model, dataset, pipeline, batch_size,
                                 loader.get('num_workers', 0))
        rows.append(dict(shift=name, severity=severity,
                         **shift_metrics(scores, labels, stored)))
        print(f'  {name:<14} {severity or "-"}: accuracy '
              f'{rows[-1]["accuracy"]:.1f} % ({len(labels)} images, '
              f'{time.perf_counter() - start:.0f} s)', flush=True)
    summary = summarize(rows)
    text = report(rows, summary, config, checkpoint,
                  f'{tested} ({len(labels)} images), shift seed {seed}',
                  stored)
    print(text)
    atomic_write(outputs['table'], lambda f: f.write(text), force=force)
    atomic_write(outputs['csv'], lambda f: write_csv(f, rows), force=force)
    save_figure(accuracy_figure(rows, severities), outputs['plot'],
                force=force)
    print('wrote ' + ', '.join(outputs.values()))
    return dict(rows=rows, outputs=outputs, **summary)
