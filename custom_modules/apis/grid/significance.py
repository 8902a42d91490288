"""Are two configurations really different? McNemar's exact test on the
per-image correctness of their best checkpoints, on the same images."""
import math

from ..analysis.predictions import load_predictions


def mcnemar_exact(only_a, only_b):
    """Two-sided exact McNemar p-value from the discordant pairs: images
    only A gets right, images only B gets right. Under "no difference"
    each discordant image is a fair coin flip, so the p-value is the
    binomial(n, 1/2) probability of a split at least this uneven."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(only_a, only_b) + 1))
    return min(1.0, 2 * tail / 2 ** n)


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
