"""Save test predictions as JSON, which cannot run code when read
(mmengine's ``DumpResults`` pickles them)."""
import json
import sys

from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS

from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import atomic_write

FORMAT = 'flower-predictions/1'


@METRICS.register_module()
class DumpPredictions(BaseMetric):
    """Write ``{'format', 'samples': [{img_path, gt_label, pred_score}]}``
    to ``out_file_path`` (``.json``), atomically; samples that carry
    ``logits`` (``KeepLogitsHook``) keep them too.

    Args:
        out_file_path (str): The ``.json`` file.
        checkpoint_sha256 (str, optional): The SHA-256 of the checkpoint
            that made them, so a report never shows them for another.
        collect_device (str): As BaseMetric's.
        collect_dir (str, optional): As BaseMetric's.
    """

    # It reports no metric; a prefix keeps mmengine from warning about it.
    default_prefix = 'predictions'

    def __init__(self, out_file_path, checkpoint_sha256=None,
                 collect_device='cpu', collect_dir=None):
        super().__init__(collect_device=collect_device,
                         collect_dir=collect_dir)
        if not out_file_path.endswith('.json'):
            raise ValueError(f'{out_file_path}: use a .json file name.')
        self.out_file_path = out_file_path
        self.checkpoint_sha256 = checkpoint_sha256

    def process(self, data_batch, data_samples):
        for sample in data_samples:
            self.results.append({
                'img_path': str(sample.get('img_path', '')),
                'gt_label': int(sample['gt_label'].view(-1)[0]),
                'pred_score': sample['pred_score'].float().tolist(),
            })
            if sample.get('logits') is not None:
                self.results[-1]['logits'] = sample['logits'].float().tolist()

    def compute_metrics(self, results):
        try:
            atomic_write(self.out_file_path, lambda f: json.dump(
                {'format': FORMAT, 'checkpoint_sha256': self.checkpoint_sha256,
                 'samples': results}, f), force=True)
        except (OSError, UserInputError) as exc:
            # The other metrics are kept: tools/test.py prints them, then
            # fails naming this error.
            print(f'error: predictions not written: {exc}', file=sys.stderr)
            return {'write_failed': 1.0}
        return {}
