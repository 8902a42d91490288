"""Are two configurations really different? McNemar's exact test on the
per-image correctness of their best checkpoints, on the same images, and a
sign-flip test over seeds, both from ``scipy.stats``."""
import numpy as np
from scipy.stats import binomtest, permutation_test

from .predictions import load_predictions


def mcnemar_exact(only_a, only_b):
    """Two-sided exact McNemar p-value from the discordant pairs.

    Args:
        only_a: images only A gets right.
        only_b: images only B gets right.

    Returns:
        float: under "no difference" each discordant image is a fair coin
        flip: the binomial(n, 1/2) p-value of this split (1 if n = 0).
    """
    if only_a + only_b == 0:
        return 1.0
    return float(binomtest(only_a, only_a + only_b, 0.5).pvalue)


def correctness(preds):
    """``{image path: right?}`` from a ``tools/test.py --out`` JSON file."""
    scores, labels, paths = load_predictions(preds)
    return dict(zip(paths, (scores.argmax(1) == labels).tolist()))


def pairwise(runs):
    """``runs``: ``[(name, {path: right?})]``. Returns ``{(i, j): (p,
    only_i, only_j, shared images)}`` for i < j."""
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


def significance_markdown(labels, runs, split, alpha=0.05):
    """A p-value matrix, ``*`` where p < alpha, and what it can show."""
    tests = pairwise(runs)
    images = max((t[3] for t in tests.values()), default=0)
    lines = [f'## Paired differences (McNemar\'s exact test, {split} split)',
             '', '| # | configuration | ' + ' | '.join(
                 str(i + 1) for i in range(len(runs))) + ' |',
             '|---:|---|' + '---:|' * len(runs)]
    for i, label in enumerate(labels):
        cells = []
        for j in range(len(runs)):
            if i == j:
                cells.append('—')
                continue
            p = tests[min(i, j), max(i, j)][0]
            cells.append(f'{p:.3f}{"*" if p < alpha else ""}')
        lines.append(f'| {i + 1} | {label} | ' + ' | '.join(cells) + ' |')
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


def sign_flip_p(differences):
    """Exact two-sided paired permutation test over seeds.

    Args:
        differences: per-seed differences between two configurations.

    Returns:
        float: the share of the 2^k sign flips whose mean is at least as far
        from 0 as the observed one (with k seeds, never below 2 / 2^k).
    """
    if len(differences) < 2:  # both signs of one seed are as extreme
        return 1.0
    result = permutation_test(
        (np.asarray(differences, dtype=np.float64), ), np.mean,
        permutation_type='samples', n_resamples=np.inf, vectorized=True)
    return float(result.pvalue)


def seeds_markdown(labels, accuracies, metric, alpha=0.05):
    """``accuracies``: per configuration ``{seed: accuracy}``. A matrix of
    the mean paired difference (row minus column) over the shared seeds,
    with the sign-flip p-value."""
    lines = [f'## Paired differences over seeds ({metric}, sign-flip '
             'permutation test)', '', '| # | configuration | ' + ' | '.join(
                 str(i + 1) for i in range(len(labels))) + ' |',
             '|---:|---|' + '---:|' * len(labels)]
    fewest = None
    for i, label in enumerate(labels):
        cells = []
        for j in range(len(labels)):
            shared = sorted(accuracies[i].keys() & accuracies[j].keys())
            if i == j or not shared:
                cells.append('—')
                continue
            diffs = [accuracies[i][s] - accuracies[j][s] for s in shared]
            p = sign_flip_p(diffs)
            fewest = min(fewest or len(shared), len(shared))
            cells.append(f'{sum(diffs) / len(diffs):+.2f} (p {p:.2f}'
                         f'{"*" if p < alpha else ""})')
        lines.append(f'| {i + 1} | {label} | ' + ' | '.join(cells) + ' |')
    if fewest:
        lines += ['', f'Mean difference in points, row minus column, over '
                  f'the seeds both share; with {fewest} seeds the smallest '
                  f'possible p is {2 / 2 ** fewest:.2f}, so fewer than 6 '
                  'seeds can never reach 5 %.', '']
    return '\n'.join(lines)
