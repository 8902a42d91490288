"""Calibration and selective-prediction arithmetic on softmax scores.

Pure torch functions, shared by the registered metric, the calibration tool,
the test and inference tools and the tests. Inputs are the ``pred_score``
probabilities mmpretrain's heads return; their logarithm stands in for the
logits (softmax is unchanged by a per-image constant, so scaling
``log p`` by 1/T is exactly temperature scaling of the logits).
"""
import math

import torch


def as_logits(probs):
    """``log p``, with zeros (float32 underflow) clamped to the tiniest
    positive float so that every image keeps a finite loss."""
    probs = torch.as_tensor(probs, dtype=torch.float64)
    return probs.clamp_min(torch.finfo(torch.float32).tiny).log()


def apply_temperature(probs, temperature):
    """Softmax of ``log p / T``: the same ranking, softened when T > 1."""
    if temperature == 1:
        return torch.as_tensor(probs, dtype=torch.float64)
    return torch.softmax(as_logits(probs) / temperature, dim=1)


def expected_calibration_error(probs, labels, num_bins=15):
    """Top-1 ECE with ``num_bins`` equal-width bins ``(i/B, (i+1)/B]``: the
    gap between confidence and accuracy in each bin, weighted by its share
    of the images. A fraction in [0, 1]."""
    confidence, accuracy, counts = reliability_bins(probs, labels, num_bins)
    total = counts.sum()
    return float(((confidence - accuracy).abs() * counts).sum() / total)


def reliability_bins(probs, labels, num_bins=15):
    """Mean confidence, accuracy and image count of each bin (0 if empty)."""
    probs = torch.as_tensor(probs, dtype=torch.float64)
    labels = torch.as_tensor(labels).view(-1)
    conf, pred = probs.max(dim=1)
    correct = (pred == labels).double()
    edges = torch.linspace(0, 1, num_bins + 1, dtype=torch.float64)
    index = torch.bucketize(conf, edges[1:-1])  # x in (e[i-1], e[i]] -> i
    counts = torch.bincount(index, minlength=num_bins).double()
    safe = counts.clamp_min(1)
    confidence = torch.bincount(index, conf, minlength=num_bins) / safe
    accuracy = torch.bincount(index, correct, minlength=num_bins) / safe
    return confidence, accuracy, counts


def negative_log_likelihood(probs, labels):
    """Mean ``-log p(true class)``."""
    labels = torch.as_tensor(labels).view(-1, 1)
    return float(-as_logits(probs).gather(1, labels).mean())


def brier_score(probs, labels):
    """Mean squared distance to the one-hot label, summed over classes
    (0 is perfect, 2 the worst)."""
    probs = torch.as_tensor(probs, dtype=torch.float64)
    onehot = torch.zeros_like(probs)
    onehot.scatter_(1, torch.as_tensor(labels).view(-1, 1), 1.0)
    return float(((probs - onehot) ** 2).sum(dim=1).mean())


def fit_temperature(probs, labels, max_iter=100):
    """The one scalar T > 0 minimising the NLL of ``softmax(log p / T)``,
    by LBFGS on log T (so T stays positive)."""
    logits = as_logits(probs)
    labels = torch.as_tensor(labels).view(-1)
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=max_iter,
                                  line_search_fn='strong_wolfe')

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp())


def threshold_for_coverage(confidences, coverage):
    """The highest confidence threshold that still answers at least
    ``coverage`` of the images (answer when confidence >= threshold)."""
    if not 0 < coverage <= 1:
        raise ValueError(f'coverage {coverage} must be in (0, 1]')
    ordered = torch.as_tensor(confidences, dtype=torch.float64).sort(
        descending=True).values
    keep = max(1, math.ceil(coverage * len(ordered) - 1e-9))
    return float(ordered[keep - 1])


def selective_accuracy(probs, labels, threshold):
    """Share answered (confidence >= threshold) and accuracy on those."""
    probs = torch.as_tensor(probs, dtype=torch.float64)
    conf, pred = probs.max(dim=1)
    answered = conf >= threshold
    correct = pred == torch.as_tensor(labels).view(-1)
    coverage = float(answered.double().mean())
    accuracy = (float(correct[answered].double().mean())
                if answered.any() else float('nan'))
    return coverage, accuracy


def risk_coverage(probs, labels):
    """Coverage and error rate when answering only the k most confident
    images, for k = 1..N (the risk-coverage curve)."""
    probs = torch.as_tensor(probs, dtype=torch.float64)
    conf, pred = probs.max(dim=1)
    order = conf.argsort(descending=True)
    wrong = (pred != torch.as_tensor(labels).view(-1))[order].double()
    k = torch.arange(1, len(wrong) + 1, dtype=torch.float64)
    return k / len(wrong), wrong.cumsum(0) / k
