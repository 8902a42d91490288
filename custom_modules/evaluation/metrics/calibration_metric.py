"""ECE, NLL and Brier score as an mmengine metric, logged beside accuracy."""
import os.path as osp

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MessageHub, print_log
from mmengine.visualization import LocalVisBackend, Visualizer
from mmpretrain.registry import METRICS
from PIL import Image

from ..calibration import LEGACY_SCORE, evaluate_calibration, reject_score
from ..plots import save_calibration_plots


def _vis_backends():
    """The run's visualizer backends; none outside a Runner."""
    try:
        return list(Visualizer.get_current_instance()._vis_backends.values())
    except (RuntimeError, AttributeError):
        return []


@METRICS.register_module()
class CalibrationMetric(BaseMetric):
    """Top-1 ECE (%), NLL and Brier score of ``pred_score``, and plots.

    Args:
        num_bins: equal-width confidence bins of the ECE.
        temperature: from ``tools/analysis/calibrate.py``; unless 1, the
            figures after scaling are added as ``*_scaled``.
        threshold: reject threshold: adds ``coverage`` (share answered, %),
            ``selective_acc`` (accuracy on those, %) and a risk-coverage
            curve.
        score: the reject score ``threshold`` applies to (see
            ``evaluation.calibration.REJECT_SCORES``); ``energy`` needs the
            samples' ``logits`` (``KeepLogitsHook``).
        out_dir: for the reliability diagram (default: the run's
            ``vis_data``).
        plot: draw the plots.
        tag: plot name suffix (default: ``epoch_<n>``).
    """
    default_prefix = 'calibration'

    def __init__(self, num_bins=15, temperature=1.0, threshold=None,
                 out_dir=None, plot=True, tag=None, score=LEGACY_SCORE,
                 collect_device='cpu', prefix=None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.num_bins = num_bins
        self.temperature = float(temperature)
        self.threshold = threshold
        self.out_dir = out_dir
        self.plot = plot
        self.tag = tag
        self.score = score

    def process(self, data_batch, data_samples):
        for sample in data_samples:
            logits = sample.get('logits')
            self.results.append((sample['pred_score'].cpu().float().numpy(),
                                 int(sample['gt_label'].view(-1)[0]),
                                 None if logits is None
                                 else logits.cpu().numpy()))

    def compute_metrics(self, results):
        probs = np.stack([r[0] for r in results]).astype(np.float64)
        labels = np.array([r[1] for r in results])
        values = None
        if self.threshold is not None and self.score != 'max_softmax':
            if any(r[2] is None for r in results):
                raise ValueError(f'CalibrationMetric: the {self.score} reject '
                                 'score needs the logits; add '
                                 "dict(type='KeepLogitsHook') to custom_hooks")
            values = reject_score(np.stack([r[2] for r in results]),
                                  self.score, self.temperature)
        found = evaluate_calibration(probs, labels, self.temperature,
                                     self.threshold, self.num_bins, values)
        metrics = dict(found['before'])
        if self.temperature != 1:
            metrics.update({f'{k}_scaled': v
                            for k, v in found['after'].items()},
                           temperature=self.temperature)
        if self.threshold is not None:
            metrics.update(coverage=found['coverage'],
                           selective_acc=found['selective_acc'])
        backends = _vis_backends()
        # default: the run's vis_data folder
        out_dir = self.out_dir or next((b._save_dir for b in backends
                                        if getattr(b, '_save_dir', None)), None)
        if self.plot and out_dir:
            # The train loop stores the 0-based epoch; name as the log does.
            epoch = MessageHub.get_current_instance().get_info('epoch', 0)
            written = save_calibration_plots(
                out_dir, self.tag or f'epoch_{epoch + 1}', probs, labels,
                self.temperature, self.threshold, self.num_bins, values)
            trackers = [b for b in backends
                        if not isinstance(b, LocalVisBackend)]  # --vis-backend
            for path in written.values() if trackers else ():
                with Image.open(path) as img:
                    image = np.asarray(img.convert('RGB'))
                for backend in trackers:
                    backend.add_image(osp.basename(path), image, step=epoch + 1)
            print_log(f'calibration plots: {", ".join(written.values())}',
                      logger='current')
        return metrics
