"""Reliability diagrams and risk-coverage curves (matplotlib Figures)."""
import os.path as osp

import numpy as np
from matplotlib.figure import Figure

from custom_modules.utils.fileio import save_figure

from .calibration import (
    apply_temperature,
    expected_calibration_error,
    reliability_bins,
    risk_coverage,
    selective_accuracy,
)


def reliability_figure(panels, labels, num_bins=15):
    """One reliability diagram of ``labels`` per ``(title, probs)`` panel."""
    fig = Figure(figsize=(4.2 * len(panels), 4.2))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    centres = (np.arange(num_bins) + 0.5) / num_bins
    for ax, (title, probs) in zip(axes, panels):
        confidence, accuracy, counts = reliability_bins(probs, labels,
                                                        num_bins)
        used = counts > 0
        ax.bar(centres[used], accuracy[used], width=1 / num_bins,
               edgecolor='black', color='tab:blue', label='accuracy')
        ax.bar(centres[used], np.abs(confidence - accuracy)[used],
               bottom=np.minimum(confidence, accuracy)[used],
               width=1 / num_bins, color='tab:red', alpha=0.35, hatch='//',
               label='gap to mean confidence')
        ax.plot([0, 1], [0, 1], '--', color='gray')
        ece = expected_calibration_error(probs, labels, num_bins)
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel='confidence (top-1)',
               ylabel='accuracy', title=f'{title}\nECE {100 * ece:.2f} %, '
               f'{int(counts.sum())} images')
        ax.legend(loc='upper left', fontsize=8)
    fig.tight_layout()
    return fig


def risk_coverage_figure(probs, labels, threshold=None, title='',
                         score=None):
    """Error rate of the answered images against their share, ``threshold``
    (of ``score``, default the top probability) marked."""
    coverage, risk = risk_coverage(probs, labels, score)
    fig = Figure(figsize=(5, 4))
    ax = fig.subplots()
    ax.plot(100 * coverage, 100 * risk, color='tab:blue')
    if threshold is not None:
        answered, accuracy = selective_accuracy(probs, labels, threshold,
                                                score)
        ax.plot([100 * answered], [100 * (1 - accuracy)], 'o',
                color='tab:red', label=f'threshold {threshold:.3f}: '
                f'{100 * answered:.1f} % answered, '
                f'{100 * accuracy:.1f} % right')
        ax.legend(loc='upper left', fontsize=8)
    ax.set(xlabel='coverage: images answered (%)',
           ylabel='risk: error rate on answered (%)', xlim=(0, 100),
           title=title or 'Risk-coverage curve')
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def save_calibration_plots(out_dir, tag, probs, labels, temperature=1.0,
                           threshold=None, num_bins=15, score=None):
    """Write ``reliability_<tag>.png`` (before and, unless T = 1, after
    scaling) and, with a threshold, ``risk_coverage_<tag>.png`` (ranked by
    the reject ``score`` values, default the top scaled probability).

    Returns:
        dict: ``{'reliability': path, 'risk_coverage': path}`` as written.
    """
    scaled = apply_temperature(probs, temperature)
    panels = [(f'{tag}, uncalibrated', probs)]
    if temperature != 1:
        panels.append((f'{tag}, temperature {temperature:.3f}', scaled))
    written = {'reliability': save_figure(
        reliability_figure(panels, labels, num_bins),
        osp.join(out_dir, f'reliability_{tag}.png'), force=True)}
    if threshold is not None:
        written['risk_coverage'] = save_figure(
            risk_coverage_figure(scaled, labels, threshold,
                                 f'Risk-coverage on {tag} (scaled scores)',
                                 score),
            osp.join(out_dir, f'risk_coverage_{tag}.png'), force=True)
    return written
