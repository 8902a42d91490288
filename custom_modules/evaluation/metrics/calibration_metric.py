"""ECE, NLL and Brier score as an mmengine metric, logged beside accuracy."""
import os.path as osp

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MessageHub, print_log
from mmengine.visualization import Visualizer
from mmpretrain.registry import METRICS

from custom_modules.utils.fileio import save_figure

from ..calibration import apply_temperature, ece_nll_brier, selective_accuracy
from ..plots import reliability_figure, risk_coverage_figure


def _vis_dir():
    """The run's ``<log_dir>/vis_data`` (where mmengine's LocalVisBackend
    writes), or None outside a Runner."""
    try:
        visualizer = Visualizer.get_current_instance()
    except RuntimeError:
        return None
    for backend in getattr(visualizer, '_vis_backends', {}).values():
        save_dir = getattr(backend, '_save_dir', None)
        if save_dir:
            return save_dir
    return None


@METRICS.register_module()
class CalibrationMetric(BaseMetric):
    """Top-1 ECE (%), negative log-likelihood and Brier score of
    ``pred_score``, with a reliability diagram per evaluation.

    Args:
        num_bins: equal-width confidence bins of the ECE.
        temperature: from ``tools/analysis/calibrate.py``; unless 1, the
            figures after scaling are added as ``*_scaled``.
        threshold: reject threshold; adds the share answered (``coverage``,
            %), the accuracy on it (``selective_acc``, %) and a
            risk-coverage curve.
        out_dir: where plots go (default: the run's ``vis_data`` folder).
        plot: draw the plots at all.
        tag: plot name suffix (default: ``epoch_<n>``).
    """
    default_prefix = 'calibration'

    def __init__(self, num_bins=15, temperature=1.0, threshold=None,
                 out_dir=None, plot=True, tag=None, collect_device='cpu',
                 prefix=None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.num_bins = num_bins
        self.temperature = float(temperature)
        self.threshold = threshold
        self.out_dir = out_dir
        self.plot = plot
        self.tag = tag

    def process(self, data_batch, data_samples):
        for sample in data_samples:
            self.results.append((sample['pred_score'].cpu().numpy(),
                                 int(sample['gt_label'].view(-1)[0])))

    def compute_metrics(self, results):
        probs = np.stack([r[0] for r in results]).astype(np.float64)
        labels = np.array([r[1] for r in results])
        metrics = ece_nll_brier(probs, labels, self.num_bins)
        scaled = apply_temperature(probs, self.temperature)
        if self.temperature != 1:
            metrics.update({f'{k}_scaled': v for k, v in ece_nll_brier(
                scaled, labels, self.num_bins).items()})
            metrics['temperature'] = self.temperature
        if self.threshold is not None:
            coverage, accuracy = selective_accuracy(scaled, labels,
                                                    self.threshold)
            metrics.update(coverage=100 * coverage,
                           selective_acc=100 * accuracy)
        out_dir = self.out_dir or _vis_dir()
        if self.plot and out_dir:
            self._draw(out_dir, probs, scaled, labels)
        return metrics

    def _draw(self, out_dir, probs, scaled, labels):
        # The train loop stores the 0-based epoch; name plots as the log does.
        epoch = MessageHub.get_current_instance().get_info('epoch', 0) + 1
        tag = self.tag or f'epoch_{epoch}'
        panels = [('uncalibrated', probs, labels)]
        if self.temperature != 1:
            panels.append((f'temperature {self.temperature:.3f}', scaled,
                           labels))
        written = [save_figure(reliability_figure(panels, self.num_bins),
                               osp.join(out_dir, f'reliability_{tag}.png'),
                               force=True)]
        if self.threshold is not None:
            written.append(save_figure(
                risk_coverage_figure(scaled, labels, self.threshold),
                osp.join(out_dir, f'risk_coverage_{tag}.png'), force=True))
        print_log(f'calibration plots: {", ".join(written)}',
                  logger='current')
