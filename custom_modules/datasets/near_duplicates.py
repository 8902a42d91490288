"""The dataset doctor's model-free parts: perceptual hashes, near-duplicate
groups, doubtful labels, outliers and imbalance
(:mod:`custom_modules.apis.doctor` supplies features)."""
import numpy as np
import scipy.fft
from PIL import Image
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

# Two photos are one picture at these hash distances (of 64 bits) and
# feature similarities, chosen on the shared photos (docs/doctor.md).
HASH_ALONE = 6
HASH_WITH_FEATURES = 12
SIMILARITY_WITH_HASH = 0.8
SIMILARITY_ALONE = 0.92


def phash(path, size=32):
    """64-bit DCT perceptual hash of the grayscale picture, as booleans."""
    with Image.open(path) as img:
        img.draft('L', (2 * size, 2 * size))  # JPEG: decode at 1/2..1/8
        gray = np.asarray(img.convert('L').resize(
            (size, size), Image.Resampling.BILINEAR), dtype=np.float32)
    low = scipy.fft.dctn(gray, norm='ortho')[:8, :8].ravel()[1:]
    return np.append(low > np.median(low), False)


def close_pairs(x, score, threshold, chunk=2048):
    """Pairs ``(i, j, score)`` with ``i < j`` whose score clears the
    threshold, in row chunks.

    Args:
        x (np.ndarray): ``(n, d)`` hash bits (bool) or unit features.
        score (str): ``'hamming'`` (pairs at or below ``threshold``) or
            ``'cosine'`` (pairs at or above it).
        threshold (float): The cut.
    """
    x = x.astype(np.float32)
    pairs = []
    for start in range(0, len(x), chunk):
        block = x[start:start + chunk]
        if score == 'hamming':
            values = block @ (1 - x).T + (1 - block) @ x.T
            hit = values <= threshold
        else:
            values = block @ x.T
            hit = values >= threshold
        i, j = np.nonzero(hit)
        i += start
        keep = i < j
        pairs.extend(zip(i[keep].tolist(), j[keep].tolist(),
                         values[i[keep] - start, j[keep]].tolist()))
    return pairs


def near_duplicate_groups(paths, labels, hashes, features=None):
    """Photos joined by a close hash or close features, as groups.

    Args:
        paths (list[str]): The photos (relative paths).
        labels (list[str]): Their classes.
        hashes (np.ndarray): ``(n, 64)`` bools from :func:`phash`.
        features (np.ndarray, optional): ``(n, d)`` unit-length features.

    Returns:
        list[dict]: per group of two or more photos: ``files``, ``classes``,
        ``pairs`` (``[a, b, how, value]``) and ``label_conflict``; largest
        first.
    """
    limit = HASH_ALONE if features is None else HASH_WITH_FEATURES
    pairs = []
    for i, j, d in close_pairs(hashes, 'hamming', limit):
        if d <= HASH_ALONE or features[i] @ features[j] >= \
                SIMILARITY_WITH_HASH:
            pairs.append((i, j, 'hash distance', d))
    if features is not None:
        hashed = {(i, j) for i, j, *_ in pairs}
        pairs += [(i, j, 'feature similarity', s) for i, j, s in
                  close_pairs(features, 'cosine', SIMILARITY_ALONE)
                  if (i, j) not in hashed]
    if not pairs:
        return []
    rows, cols = np.array([(i, j) for i, j, *_ in pairs]).T
    _, component = connected_components(coo_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(len(paths), ) * 2), directed=False)
    groups = []
    for c in np.flatnonzero(np.bincount(component) > 1):  # two or more photos
        idx = np.flatnonzero(component == c).tolist()
        inside = set(idx)
        classes = sorted({labels[i] for i in idx})
        groups.append(dict(
            files=[paths[i] for i in idx], classes=classes,
            label_conflict=len(classes) > 1,
            pairs=[[paths[i], paths[j], how, int(v) if how == 'hash distance'
                    else round(float(v), 4)]
                   for i, j, how, v in pairs if i in inside]))
    return sorted(groups, key=lambda g: (-len(g['files']), g['files']))


def label_suspects(probs, labels):
    """Confident-learning ranking of the labels most likely wrong.

    A photo is a suspect when its label's probability is below that class's
    mean over its photos while another class is at or above its own; ranked
    by the margin between the two.

    Args:
        probs (np.ndarray): ``(n, k)`` out-of-fold probabilities.
        labels (np.ndarray): ``(n,)`` given labels (ints).

    Returns:
        list[tuple[int, int, float]]: ``(index, suggested label, margin)``,
        most suspect first.
    """
    k = probs.shape[1]
    thresholds = np.array([probs[labels == c, c].mean() if np.any(
        labels == c) else 1.0 for c in range(k)])
    given = probs[np.arange(len(labels)), labels]
    above = np.where(probs >= thresholds, probs, -np.inf)
    above[np.arange(len(labels)), labels] = -np.inf
    suggested = above.argmax(1)
    best = above.max(1)
    hit = np.nonzero((given < thresholds[labels]) & np.isfinite(best))[0]
    margin = best[hit] - given[hit]
    order = np.argsort(-margin, kind='stable')
    return [(int(hit[o]), int(suggested[hit[o]]), float(margin[o]))
            for o in order]


def outlier_scores(features, labels):
    """How unlike every class a photo is: its cosine distance to the nearest
    class centroid over that class's median distance (1 = typical).

    Args:
        features (np.ndarray): ``(n, d)`` unit-length features.
        labels (np.ndarray): ``(n,)`` given labels (ints).
    """
    scores = np.full(len(labels), np.inf)
    for c in np.unique(labels):
        idx = labels == c
        centroid = features[idx].mean(0)
        centroid /= np.linalg.norm(centroid) or 1.0
        distance = 1.0 - features @ centroid
        scores = np.minimum(scores, distance / max(
            float(np.median(distance[idx])), 1e-6))
    return scores


def imbalance(counts):
    """Largest class count over smallest (``inf`` when one is empty)."""
    values = list(counts.values())
    return max(values) / min(values) if min(values) else float('inf')
