"""ECE, NLL and Brier score as an mmengine metric, logged beside accuracy."""
import os.path as osp

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MessageHub, print_log
from mmpretrain.registry import METRICS
from PIL import Image

from ..calibration import (
    apply_temperature,
    brier_score,
    expected_calibration_error,
    negative_log_likelihood,
    selective_accuracy,
)


def _vis_dir():
    """The run's ``<log_dir>/vis_data`` (where mmengine's LocalVisBackend
    writes), or None outside a Runner."""
    from mmengine.visualization import Visualizer
    try:
        visualizer = Visualizer.get_current_instance()
    except RuntimeError:
        return None
    for backend in getattr(visualizer, '_vis_backends', {}).values():
        save_dir = getattr(backend, '_save_dir', None)
        if save_dir:
            return save_dir
    return None


def _to_trackers(path, step):
    """Send the drawn PNG ``path`` to the run's tracking backends
    (``--vis-backend``: TensorBoard, MLflow) under its file name; the
    LocalVisBackend's folder already holds the file."""
    from mmengine.visualization import LocalVisBackend, Visualizer
    try:
        visualizer = Visualizer.get_current_instance()
    except RuntimeError:
        return
    backends = [b for b in getattr(visualizer, '_vis_backends', {}).values()
                if not isinstance(b, LocalVisBackend)]
    if backends:
        with Image.open(path) as img:
            image = np.asarray(img.convert('RGB'))
        for backend in backends:
            backend.add_image(osp.basename(path), image, step=step)


@METRICS.register_module()
class CalibrationMetric(BaseMetric):
    """Top-1 expected calibration error (``num_bins`` equal-width bins, in
    %), negative log-likelihood and Brier score of ``pred_score``.

    With ``temperature`` (fitted by ``tools/analysis/calibrate.py``) the
    same figures after scaling are added as ``*_scaled``; with
    ``threshold``, the share of images answered (``coverage``, %) and the
    accuracy on them (``selective_acc``, %). Each evaluation draws a
    reliability diagram (and, with a threshold, a risk-coverage curve) into
    ``out_dir`` (default: the run's ``vis_data`` folder).
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
            self.results.append((sample['pred_score'].cpu(),
                                 int(sample['gt_label'].view(-1)[0])))

    def compute_metrics(self, results):
        probs = torch.stack([r[0] for r in results]).double()
        labels = torch.tensor([r[1] for r in results])
        metrics = self._figures(probs, labels)
        scaled = probs
        if self.temperature != 1:
            scaled = apply_temperature(probs, self.temperature)
            metrics.update({f'{k}_scaled': v for k, v in
                            self._figures(scaled, labels).items()})
            metrics['temperature'] = self.temperature
        if self.threshold is not None:
            coverage, accuracy = selective_accuracy(scaled, labels,
                                                    self.threshold)
            metrics.update(coverage=100 * coverage,
                           selective_acc=100 * accuracy)
        if self.plot:
            self._draw(probs, scaled, labels)
        return metrics

    def _figures(self, probs, labels):
        return dict(
            ece=100 * expected_calibration_error(probs, labels,
                                                 self.num_bins),
            nll=negative_log_likelihood(probs, labels),
            brier=brier_score(probs, labels))

    def _draw(self, probs, scaled, labels):
        out_dir = self.out_dir or _vis_dir()
        if not out_dir:
            return
        import matplotlib.pyplot as plt

        from custom_modules.utils.fileio import save_figure

        from ..plots import reliability_figure, risk_coverage_figure
        # The train loop stores the 0-based epoch; name plots as the log does.
        epoch = MessageHub.get_current_instance().get_info('epoch', 0) + 1
        tag = self.tag or f'epoch_{epoch}'
        panels = [('uncalibrated', probs, labels)]
        if self.temperature != 1:
            panels.append((f'temperature {self.temperature:.3f}', scaled,
                           labels))
        written = []
        fig = reliability_figure(panels, self.num_bins)
        written.append(save_figure(
            fig, osp.join(out_dir, f'reliability_{tag}.png'), force=True))
        plt.close(fig)
        if self.threshold is not None:
            fig = risk_coverage_figure(scaled, labels, self.threshold)
            written.append(save_figure(
                fig, osp.join(out_dir, f'risk_coverage_{tag}.png'),
                force=True))
            plt.close(fig)
        for path in written:
            _to_trackers(path, epoch)
        print_log(f'calibration plots: {", ".join(written)}',
                  logger='current')
