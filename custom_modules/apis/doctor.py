"""The dataset doctor (``tools/dataset/doctor.py``): near-duplicates,
doubtful labels, outliers and imbalance of a class-per-folder photo tree,
from the packaged ImageNet Lite0's pooled features and a logistic
regression cross-fitted on them."""
import io
import json
import os
import os.path as osp
import time

import numpy as np
import torch
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from PIL import Image

from custom_modules.datasets.annotations.scan import progress_bar, scan
from custom_modules.datasets.near_duplicates import (
    imbalance,
    label_suspects,
    near_duplicate_groups,
    outlier_scores,
    phash,
)
from custom_modules.engine.hooks import to_channels_last
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import atomic_write
from custom_modules.utils.html_page import png_data_uri, render
from custom_modules.utils.paths import ROOT

from .config import load_config

CONFIG = osp.join(ROOT, 'configs', 'efficientnet_lite0_freeze2_fixed.py')
SIZE = 160  # feature resolution: fast, and plenty to tell photos apart


def build_feature_model(config=CONFIG):
    """The config's pretrained backbone + neck, in eval mode."""
    cfg = load_config(config)
    init_default_scope('mmpretrain')
    model = torch.nn.Sequential(MODELS.build(cfg.model.backbone),
                                MODELS.build(cfg.model.neck))
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')  # not the list of every weight loaded
    try:
        model[0].init_weights()  # Pretrained: package://efficientnet-lite0
    finally:
        logger.setLevel(level)
    return to_channels_last(model.eval())


def load_batch(paths, size, mean=127.0, std=128.0):
    """Photos as a normalised ``(n, 3, size, size)`` tensor (squashed)."""
    arrays = []
    for path in paths:
        with Image.open(path) as img:
            img.draft('RGB', (size, size))
            arrays.append(np.asarray(img.convert('RGB').resize(
                (size, size), Image.Resampling.BILINEAR)))
    batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float()
    return ((batch - mean) / std).contiguous(
        memory_format=torch.channels_last)


def extract_features(paths, model=None, size=SIZE, batch_size=32,
                     progress=None):
    """Unit-length pooled features, ``(n, d)`` float32.

    Args:
        paths (list[str]): Image files.
        model (torch.nn.Module, optional): Maps a batch to ``(n, d)``.
        size (int): Input side in pixels.
        batch_size (int): Photos per forward pass.
        progress (callable, optional): Called with the number done.
    """
    model = model or build_feature_model()
    out = []
    with torch.no_grad():
        for start in range(0, len(paths), batch_size):
            feats = model(load_batch(paths[start:start + batch_size], size))
            feats = feats[-1] if isinstance(feats, tuple) else feats
            out.append(torch.nn.functional.normalize(
                feats.float().flatten(1), dim=1).numpy())
            if progress:
                progress(min(start + batch_size, len(paths)))
    return np.concatenate(out)


def cross_fitted_probs(features, labels, folds=5, seed=0):
    """Out-of-fold class probabilities of a logistic regression."""
    # lazy: scikit-learn is only needed here (a grad-cam dependency)
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    folds = max(2, min(folds, np.bincount(labels).min()))
    return cross_val_predict(
        LogisticRegression(C=10.0, max_iter=500), features, labels,
        cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
        method='predict_proba')


def thumbnail(path, side=160):
    """A small 256-colour PNG of ``path`` as a data: URI."""
    with Image.open(path) as img:
        img.draft('RGB', (side, side))
        img = img.convert('RGB')
        img.thumbnail((side, side))
        buffer = io.BytesIO()
        img.quantize(256).save(buffer, format='PNG', optimize=True)
    return png_data_uri(buffer.getvalue())


def decisions_template(groups, suspects, outliers):
    """The decisions file: groups as ``group`` lines, suspects and outliers
    as commented suggestions."""
    lines = [
        '# Decisions for make_annotations.py --decisions (this file).',
        '# One per line: exclude PATH | relabel PATH CLASS | group PATH PATH...',
        '# Paths are relative to the source folder; "#" starts a comment.',
        '# Uncomment the suggestions you agree with after looking at '
        'review.html.', '', '# Near-duplicate groups: kept in one split. '
        'A group across classes stops make_annotations until you relabel '
        'or exclude its photos.']
    for g in groups:
        lines.append(('# label conflict: ' + ', '.join(g['classes']) + '\n'
                      if g['label_conflict'] else '') +
                     'group ' + ' '.join(g['files']))
    lines += ['', '# Label suspects (given -> suggested):']
    lines += [f'# relabel {s["path"]} {s["suggested"]}' for s in suspects]
    lines += ['', '# Outliers (unlike their class):']
    lines += [f'# exclude {o["path"]}' for o in outliers]
    return '\n'.join(lines) + '\n'


def run_doctor(src, out_dir, model=None, size=SIZE, top=30, folds=5,
               progress=True):
    """Examine ``src`` (a class-per-folder tree) and write ``report.json``,
    ``review.html`` and ``decisions.txt`` to ``out_dir``.

    Args:
        src (str): The photo folder (only read).
        out_dir (str): Where the three files go.
        model (torch.nn.Module, optional): Feature model.
        size (int): Feature resolution in pixels.
        top (int): Suspects and outliers listed.
        folds (int): Cross-fitting folds.
        progress (bool): Progress bars on stderr.

    Returns:
        dict: The report (also in ``report.json``).
    """
    start = time.time()
    classes, files = scan(src)
    if osp.realpath(out_dir).startswith(osp.realpath(src) + os.sep):
        raise UserInputError(f'--out {out_dir} is inside {src}; the photo '
                             'folder is never written to: choose another.')
    paths, skipped, hashes = [], [], []
    all_paths = [p for c in classes for p in files[c]]
    show = progress_bar('hashing', len(all_paths), 'photos') if progress else None
    for i, p in enumerate(all_paths, 1):
        try:
            hashes.append(phash(osp.join(src, p)))
            paths.append(p)
        except (OSError, SyntaxError, ValueError) as exc:
            skipped.append(dict(path=p, detail=str(exc)))
        if show and (i % 200 == 0 or i == len(all_paths)):
            show(i)
    given = [p.split(os.sep, 1)[0] for p in paths]
    used = [c for c in classes if c in set(given)]
    labels = np.array([used.index(c) for c in given])
    if len(used) < 2:
        raise UserInputError(f'{src}: fewer than two classes have readable '
                             'photos; nothing to compare.')
    features = extract_features(
        [osp.join(src, p) for p in paths], model,
        size, progress=progress_bar('features', len(paths), 'photos')
        if progress else None)
    groups = near_duplicate_groups(paths, given, np.stack(hashes), features)
    probs = cross_fitted_probs(features, labels, folds)
    suspects = [dict(path=paths[i], given=given[i], suggested=used[j],
                     score=round(m, 4),
                     given_prob=round(float(probs[i, labels[i]]), 3),
                     suggested_prob=round(float(probs[i, j]), 3))
                for i, j, m in label_suspects(probs, labels)]
    scores = outlier_scores(features, labels)
    outliers = [dict(path=paths[i], label=given[i],
                     score=round(float(scores[i]), 3))
                for i in np.argsort(-scores, kind='stable')[:top]]
    counts = {c: given.count(c) for c in used}
    report = dict(
        src=src, classes=used, counts=counts, imbalance=imbalance(counts),
        photos=len(paths), skipped=skipped, groups=groups,
        label_conflicts=sum(g['label_conflict'] for g in groups),
        label_suspects=suspects, outliers=outliers,
        seconds=round(time.time() - start, 1))
    shown = {f for g in groups for f in g['files']} | {
        s['path'] for s in suspects[:top]} | {o['path'] for o in outliers}
    thumbs = {p: thumbnail(osp.join(src, p)) for p in sorted(shown)}
    page = render('doctor.html.j2', title='Dataset doctor', src=src,
                  n=len(paths), classes=used, seconds=report['seconds'],
                  groups=groups, conflicts=report['label_conflicts'],
                  suspects=suspects[:top], outliers=outliers, thumbs=thumbs,
                  imbalance=report['imbalance'], counts=counts,
                  decisions=osp.join(out_dir, 'decisions.txt'))
    for name, text in (('report.json', json.dumps(report, indent=2)),
                       ('review.html', page),
                       ('decisions.txt', decisions_template(
                           groups, suspects[:top], outliers))):
        atomic_write(osp.join(out_dir, name), lambda f, t=text: f.write(t),
                     force=True)
    return report
