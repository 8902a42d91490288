"""McNemar's exact test of two checkpoints' per-image correctness and a
sign-flip test over seeds (``scipy.stats``), as markdown for the grid."""
import numpy as np
from scipy.stats import binomtest, permutation_test

from .predictions import load_predictions


def mcnemar_exact(only_a, only_b):
    """Two-sided exact McNemar p-value from the images only A, and only B,
    gets right (1 if none)."""
    if only_a + only_b == 0:
        return 1.0
    return float(binomtest(only_a, only_a + only_b, 0.5).pvalue)


def sign_flip_p(differences):
    """Exact two-sided sign-flip p-value of per-seed differences."""
    if len(differences) < 2:  # both signs of one seed are as extreme
        return 1.0
    return float(permutation_test(
        (np.asarray(differences, dtype=np.float64), ), np.mean,
        permutation_type='samples', n_resamples=np.inf,
        vectorized=True).pvalue)


def correctness(preds):
    """``{image path: right?}`` from a ``tools/test.py --out`` JSON file."""
    scores, labels, paths = load_predictions(preds)
    return dict(zip(paths, (scores.argmax(1) == labels).tolist()))


def pairwise(runs):
    """``{(i, j): (p, only_i, only_j, shared images)}`` for i < j of
    ``runs`` = ``[(name, {path: right?})]``."""
    result = {}
    for i, (_, a) in enumerate(runs):
        for j in range(i + 1, len(runs)):
            b = runs[j][1]
            shared = a.keys() & b.keys()
            only_a = sum(1 for k in shared if a[k] and not b[k])
            only_b = sum(1 for k in shared if b[k] and not a[k])
            result[i, j] = (mcnemar_exact(only_a, only_b), only_a, only_b,
                            len(shared))
    return result


def _matrix(title, labels, cell):
    """A markdown table of ``cell(i, j)`` (None: a dash) for every pair."""
    numbers = ' | '.join(str(i + 1) for i in range(len(labels)))
    lines = [title, '', f'| # | configuration | {numbers} |',
             '|---:|---|' + '---:|' * len(labels)]
    for i, label in enumerate(labels):
        cells = [cell(i, j) if i != j else None for j in range(len(labels))]
        lines.append(f'| {i + 1} | {label} | '
                     + ' | '.join(c or '—' for c in cells) + ' |')
    return lines


def significance_markdown(labels, runs, split, alpha=0.05):
    """McNemar p-values of every two ``runs``, ``*`` where p < alpha, and
    what they can show."""
    tests = pairwise(runs)
    images = max((t[3] for t in tests.values()), default=0)

    def cell(i, j):
        p = tests[min(i, j), max(i, j)][0]
        return f'{p:.3f}{"*" if p < alpha else ""}'

    lines = _matrix(f'## Paired differences (McNemar\'s exact test, {split} '
                    'split)', labels, cell)
    lines += ['', f'Each cell is the two-sided p-value for "these two '
              f'configurations are right on the same share of the {images} '
              f'{split} images", from the images exactly one of them gets '
              f'right; * marks p < {alpha:g} (no correction for the '
              f'{len(tests)} comparisons). A * says the difference is '
              'unlikely to be chance on these images for these trained '
              'weights; it cannot say the ranking holds for other photos or '
              'other seeds, and no * means the data cannot tell the two '
              'apart, not that they are equal.', '']
    return '\n'.join(lines)


def seeds_markdown(labels, accuracies, metric, alpha=0.05):
    """Mean paired difference (row minus column) of ``accuracies`` (per
    configuration ``{seed: accuracy}``) over the shared seeds, with the
    sign-flip p-value."""
    shared = [[sorted(a.keys() & b.keys()) for b in accuracies]
              for a in accuracies]

    def cell(i, j):
        if not shared[i][j]:
            return None
        diffs = [accuracies[i][s] - accuracies[j][s] for s in shared[i][j]]
        p = sign_flip_p(diffs)
        return (f'{sum(diffs) / len(diffs):+.2f} (p {p:.2f}'
                f'{"*" if p < alpha else ""})')

    lines = _matrix(f'## Paired differences over seeds ({metric}, sign-flip '
                    'permutation test)', labels, cell)
    fewest = min((len(s) for i, row in enumerate(shared)
                  for j, s in enumerate(row) if i != j and s), default=0)
    if fewest:
        lines += ['', f'Mean difference in points, row minus column, over '
                  f'the seeds both share; with {fewest} seeds the smallest '
                  f'possible p is {2 / 2 ** fewest:.2f}, so fewer than 6 '
                  'seeds can never reach 5 %.', '']
    return '\n'.join(lines)
