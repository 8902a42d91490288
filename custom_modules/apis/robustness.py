"""The shift benchmark behind ``tools/analysis/robustness.py``: a
checkpoint's test split (or ``--data-folder``) predicted clean and under
each shift x severity of :mod:`custom_modules.datasets.transforms.shifts`,
each photo decoded once for all passes; accuracy, ECE and three reject
scores (:data:`REJECT_SCORES`) per pass (docs/robustness.md).
"""
import csv
import io
import math
import os.path as osp
import statistics
import time
import warnings
from types import SimpleNamespace

import numpy as np
import onnxruntime as ort
import torch
from matplotlib.figure import Figure
from mmengine.dataset import Compose, pseudo_collate
from mmpretrain.registry import DATASETS, TRANSFORMS
from torch.utils.data import DataLoader, Subset

from custom_modules.datasets.transforms import (
    SHIFTS,
    shift_transform,
    with_low_res_policy,
)
from custom_modules.evaluation.calibration import (
    LEGACY_SCORE,
    apply_temperature,
    expected_calibration_error,
    fit_mahalanobis,
    mahalanobis_score,
    read_calibration,
    reject_score,
    selective_accuracy,
    threshold_for_coverage,
)
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import atomic_write, check_new, save_figure
from custom_modules.utils.paths import ROOT

from .calibrate import ood_photos
from .config import load_config, set_data_root
from .data_folder import use_data_folder
from .model import load_model
from .preflight import check_data
from .testing import resolve_test_split

OUTPUTS = {'table': 'results.md', 'csv': 'results.csv',
           'plot': 'accuracy_vs_severity.png'}
REJECT_SCORES = ('max_softmax', 'energy', 'mahalanobis')
COLUMNS = ('shift', 'severity', 'accuracy', 'ece') + tuple(
    f'{k}_{s}' for s in REJECT_SCORES for k in ('coverage', 'answered'))
LOADERS = ('LoadImageFromFile', 'CachedLoadImageFromFile')
# The short benchmark the photos demo and the grid run: seconds, one number.
SHORT_SHIFTS = ('low_res', 'squash', 'jpeg', 'gaussian_blur')
SHORT_SEVERITIES = (3, )


def with_shift(pipeline, transform):
    """``pipeline`` with ``transform`` after its image loading."""
    pipeline = list(pipeline)
    at = next((i + 1 for i, t in enumerate(pipeline)
               if t['type'] in LOADERS), 0)
    return pipeline[:at] + [transform] + pipeline[at:]


class Passes:
    """Builds each pass's pipeline around one shared
    ``CachedLoadImageFromFile``, so a photo is decoded once for all
    passes (``cache_mb`` of decoded images, least recently used dropped).
    """

    def __init__(self, pipeline, cache_mb=4096):
        at = next(i for i, t in enumerate(pipeline) if t['type'] in LOADERS)
        self.load = TRANSFORMS.build(dict(
            pipeline[at], type='CachedLoadImageFromFile', cache_mb=cache_mb))
        self.pipeline = list(pipeline)

    def __call__(self, shift=None):
        steps = with_shift(self.pipeline, shift) if shift else self.pipeline
        return Compose([self.load if t['type'] in LOADERS
                        else TRANSFORMS.build(t) for t in steps])


class Outputs(torch.nn.Module):
    """``inputs -> (logits, pooled features)`` of an ``ImageClassifier``."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, inputs):
        feats = self.model.extract_feat(inputs)
        return self.model.head(feats), feats[-1]


class Forward:
    """:class:`Outputs` run by PyTorch or, with ``backend='onnxruntime'``,
    exported on the first batch and run by ONNX Runtime (about 4x less CPU
    per photo than PyTorch eager on this CPU; scores equal to ~1e-6).

    Args:
        model (torch.nn.Module): mmpretrain's ``ImageClassifier``.
        backend (str): ``'onnxruntime'`` or ``'pytorch'``.
    """

    def __init__(self, model, backend='onnxruntime'):
        self.model, self.outputs = model, Outputs(model).eval()
        self.backend, self.session = backend, None

    def __call__(self, inputs):
        if self.backend == 'pytorch':
            return self.outputs(inputs)
        if self.session is None:
            graph = io.BytesIO()
            with warnings.catch_warnings():
                # Run-time "same" padding is traced as constants: right, as
                # every batch has the pipeline's crop size (only N varies).
                warnings.simplefilter('ignore', torch.jit.TracerWarning)
                torch.onnx.export(self.outputs, (inputs, ), graph, dynamo=False,
                                  input_names=['inputs'],
                                  dynamic_axes={'inputs': {0: 'batch'}})
            options = ort.SessionOptions()
            options.intra_op_num_threads = torch.get_num_threads()
            self.session = ort.InferenceSession(
                graph.getvalue(), options,
                providers=['CPUExecutionProvider'])
        return tuple(map(torch.from_numpy, self.session.run(
            None, {'inputs': inputs.cpu().numpy()})))


@torch.no_grad()
def predict(forward, dataset, pipeline, batch_size):
    """Logits, pooled features and labels (-1 if none) of every image of
    ``dataset`` through ``pipeline`` (a callable), in the main process.

    Args:
        forward (Forward): The model.

    Returns:
        tuple[Tensor, Tensor, Tensor]: ``(N, C)``, ``(N, D)``, ``(N,)``.
    """
    data = dataset.dataset if isinstance(dataset, Subset) else dataset
    data.pipeline = pipeline
    logits, features, labels = [], [], []
    for batch in DataLoader(dataset, batch_size=batch_size,
                            collate_fn=pseudo_collate):
        batch = forward.model.data_preprocessor(batch, False)
        scores, pooled = forward(batch['inputs'])
        logits.append(scores.float().cpu())
        features.append(pooled.float().cpu())
        labels += [int(s.gt_label) if 'gt_label' in s else -1
                   for s in batch['data_samples']]
    return torch.cat(logits), torch.cat(features), torch.tensor(labels)


def stored_threshold(calibration):
    """``{score: threshold}`` of the stored calibration (empty if none)."""
    if (calibration or {}).get('threshold') is None:
        return {}
    return {calibration.get('score', LEGACY_SCORE): calibration['threshold']}


def reject_scores(logits, features, temperature=1.0, fit=None):
    """Each of :data:`REJECT_SCORES` per image (higher: answer sooner);
    Mahalanobis only with a ``fit``."""
    scores = {k: reject_score(logits, k, temperature)
              for k in ('max_softmax', 'energy')}
    if fit is not None:
        scores['mahalanobis'] = mahalanobis_score(features, fit)
    return scores


def shift_metrics(scores, labels, calibration=None, reject=None,
                  thresholds=None):
    """Accuracy and ECE (%, of the temperature-scaled scores when
    ``calibration`` has a temperature), and per reject score (``reject``:
    name -> per-image scores, with ``thresholds``) the share answered and
    their accuracy (%; NaN without a threshold). The calibration's score
    keeps the calibration's threshold, if it has one."""
    if calibration:
        scores = apply_temperature(scores, calibration['temperature'])
    scores = torch.as_tensor(scores)
    accuracy = 100 * float((scores.argmax(1) == labels).double().mean())
    thresholds = {**(thresholds or {}), **stored_threshold(calibration)}
    reject = dict(reject or {})
    reject.setdefault('max_softmax', scores.max(1).values.numpy())
    row = dict(accuracy=accuracy,
               ece=100 * expected_calibration_error(scores, labels))
    for name in REJECT_SCORES:
        coverage = answered = math.nan
        if thresholds.get(name) is not None and name in reject:
            coverage, answered = selective_accuracy(
                scores, labels, thresholds[name], reject[name])
            coverage, answered = 100 * coverage, 100 * answered
        row.update({f'coverage_{name}': coverage,
                    f'answered_{name}': answered})
    return row


def fmt(value):
    return '-' if value is None or (isinstance(value, float) and
                                    math.isnan(value)) else f'{value:.1f}'


def table(rows):
    """The rows as a markdown table."""
    names = ' | '.join(f'{s} answered % | {s} accuracy of answered %'
                       for s in REJECT_SCORES)
    lines = [f'| shift | severity | accuracy % | ECE % | {names} |',
             '|---|---|' + '---|' * (len(COLUMNS) - 2)]
    for row in rows:
        lines.append(f'| {row["shift"]} | {row["severity"] or "-"} | ' + ' | '
                     .join(fmt(row[k]) for k in COLUMNS[2:]) + ' |')
    return '\n'.join(lines)


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


def report(rows, summary, config, checkpoint, tested, calibration,
           thresholds, non_flower=None):
    """results.md: what was tested, the table and the summary."""
    scores = (f'temperature {calibration["temperature"]:.4f}; accuracy and '
              'ECE of the scaled scores' if calibration
              else 'none (raw scores, temperature 1)')
    inside = osp.abspath(config).startswith(ROOT + osp.sep)
    lines = [
        f'# Robustness of {osp.basename(checkpoint)}', '',
        # the repository's own configs by their usual name, not this
        # machine's path (the run's report.html shows this file)
        f'- config: {osp.relpath(config, ROOT) if inside else config}',
        f'- checkpoint: {checkpoint}',
        f'- tested: {tested}', f'- calibration: {scores}',
        '- reject thresholds: ' + ', '.join(
            f'{k} {"none" if v is None else f"{v:.4f}"}'
            for k, v in thresholds.items()), '',
        table(rows), '',
        f'clean accuracy: {summary["clean_accuracy"]:.1f} %',
        f'mean corrupted accuracy: {summary["mean_corrupted_accuracy"]:.1f} '
        f'% (drop from clean: {summary["drop"]:.1f} points)']
    if non_flower:
        lines.append(f'non-flower photos (skimage.data, {non_flower["photos"]}'
                     ') rejected: ' + ', '.join(
                         f'{fmt(100 - non_flower[f"coverage_{k}"])} % ({k})'
                         for k in REJECT_SCORES))
    return '\n'.join(lines + [''])


def write_csv(f, rows):
    writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator='\n')
    writer.writeheader()
    writer.writerows({k: row[k] if k in ('shift', 'severity')
                      else f'{row[k]:.4f}' for k in COLUMNS} for row in rows)


def fit_thresholds(model, cfg, passes, batch_size, calibration, fit_images):
    """The Mahalanobis fit on up to ``fit_images`` training photos (evenly
    spaced) and each reject score's threshold for the calibration's
    coverage (95 %) of val; the calibration's score keeps its own."""
    temperature = (calibration or {}).get('temperature', 1.0)
    train = DATASETS.build(cfg.train_dataloader.dataset)
    index = np.unique(np.linspace(0, len(train) - 1, min(
        len(train), fit_images)).round().astype(int))
    _, features, labels = predict(model, Subset(train, index), passes(),
                                  batch_size)
    fit = fit_mahalanobis(features, labels)
    logits, features, _ = predict(
        model, DATASETS.build(cfg.val_dataloader.dataset), passes(),
        batch_size)
    coverage = (calibration or {}).get('target_coverage', 0.95)
    thresholds = {k: threshold_for_coverage(v, coverage) for k, v in
                  reject_scores(logits, features, temperature, fit).items()}
    thresholds.update(stored_threshold(calibration))
    print(f'reject scores fitted: Mahalanobis on {len(index)} training '
          f'photos, thresholds for {100 * coverage:g} % of val answered')
    return fit, thresholds


def robustness(config, checkpoint, shifts=tuple(SHIFTS), severities=(1, 3, 5),
               out_dir=None, data_folder=None, data_root=None,
               cfg_options=None, batch_size=None, seed=0, calibration=True,
               device=None, force=False, low_res_policy=False,
               fit_images=500, backend=None):
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
            ``<checkpoint>.calibration.json`` and use its reject threshold.
        device (str, optional): Default: cuda when available, else cpu.
        force (bool): Replace existing outputs.
        low_res_policy (bool): Resize small photos whole instead of
            resize-and-crop (:class:`~custom_modules.datasets.transforms.
            LowResPolicy`).
        fit_images (int): Training photos the Mahalanobis score is fitted
            on (0: no Mahalanobis, energy and max-softmax only).
        backend (str, optional): :class:`Forward`'s (default:
            ``'onnxruntime'`` on the CPU, else ``'pytorch'``).

    Returns:
        dict: ``rows`` (clean first), ``clean_accuracy``,
        ``mean_corrupted_accuracy``, ``drop`` (in points),
        ``thresholds``, ``non_flower`` (None without scikit-image) and
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
    if data_folder:  # annotated under out_dir
        args = SimpleNamespace(checkpoint=checkpoint, data_folder=data_folder,
                               on_problem='stop', out=None)
        use_data_folder(cfg, args)
        tested = args.tested
    else:
        tested = resolve_test_split(cfg)
    check_data(cfg, ('test', ))
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    backend = backend or ('onnxruntime' if device == 'cpu' else 'pytorch')
    model = Forward(load_model(cfg, checkpoint, device=device), backend)
    stored = read_calibration(checkpoint) if calibration else None
    loader = cfg.test_dataloader
    pipeline = loader.dataset.pipeline
    if low_res_policy:
        try:
            pipeline = with_low_res_policy(pipeline)
        except ValueError as exc:
            raise UserInputError(f'--low-res-policy: {exc}') from exc
    passes = Passes(pipeline)
    batch_size = batch_size or loader.get('batch_size', 32)
    temperature = (stored or {}).get('temperature', 1.0)
    fit, thresholds = None, stored_threshold(stored) or {
        'max_softmax': None}
    if fit_images:
        try:
            fit, thresholds = fit_thresholds(model, cfg, passes, batch_size,
                                             stored, fit_images)
        except FileNotFoundError as exc:  # e.g. --data-folder, no splits
            print(f'no energy / Mahalanobis thresholds: {exc}')
    dataset = DATASETS.build(loader.dataset)
    print(f'{1 + len(shifts) * len(severities)} passes over {tested} '
          f'({backend})'
          + (f', calibration from {stored["path"]}' if stored else ''))
    start = time.perf_counter()

    def measure(name, severity, data=dataset):
        shift = severity and shift_transform(name, severity, seed)
        logits, features, labels = predict(model, data, passes(shift),
                                           batch_size)
        return dict(shift=name, severity=severity, **shift_metrics(
            logits.softmax(1), labels, stored,
            reject_scores(logits, features, temperature, fit), thresholds))

    rows = [measure('clean', None)]
    for name in ['clean'] + list(shifts):
        if name != 'clean':
            rows += [measure(name, v) for v in severities]
        print(f'  {name:<14}' + '  '.join(
            f'{r["severity"] or "-"}: {r["accuracy"]:5.1f} %' for r in rows
            if r['shift'] == name)
            + f'  ({time.perf_counter() - start:.0f} s)', flush=True)
    clean = rows[0]['accuracy']  # the drop from it, in points
    mean = statistics.fmean(r['accuracy'] for r in rows[1:])
    summary = dict(clean_accuracy=clean, mean_corrupted_accuracy=mean,
                   drop=clean - mean)
    paths = ood_photos(osp.join(out_dir, 'ood_photos'))
    photos = paths and DATASETS.build(dict(  # unlabelled
        type='CustomDataset', data_root=osp.dirname(paths[0]), with_label=False))
    non_flower = paths and dict({  # no labels: only the coverages mean much
        k: v if k.startswith(('shift', 'sev', 'cov')) else math.nan
        for k, v in measure('non_flower', None, photos).items()},
        photos=len(paths))
    text = report(rows, summary, config, checkpoint,
                  f'{tested} ({len(dataset)} images), shift seed {seed}'
                  + (', low-resolution policy' if low_res_policy else ''),
                  stored, thresholds, non_flower)
    print(text)
    atomic_write(outputs['table'], lambda f: f.write(text), force=force)
    atomic_write(outputs['csv'], lambda f: write_csv(
        f, rows + ([non_flower] if non_flower else [])), force=force)
    save_figure(accuracy_figure(rows, severities), outputs['plot'],
                force=force)
    print('wrote ' + ', '.join(outputs.values()))
    return dict(rows=rows, outputs=outputs, thresholds=thresholds,
                non_flower=non_flower, **summary)
