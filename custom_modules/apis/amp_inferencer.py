"""mmpretrain's image inferencer with its forward pass under autocast."""
import torch
from mmengine.runner.amp import autocast
from mmpretrain.apis import ImageClassificationInferencer


class AmpImageClassificationInferencer(ImageClassificationInferencer):
    """``infer.py --amp``: the model runs under autocast in ``amp_dtype``;
    scores come back in float32 (numpy, which the results go through, has
    no bfloat16)."""

    def __init__(self, *args, amp_dtype=torch.bfloat16, **kwargs):
        super().__init__(*args, **kwargs)
        self.amp_dtype = amp_dtype

    def forward(self, inputs, **kwargs):
        device_type = next(self.model.parameters()).device.type
        with autocast(device_type=device_type, dtype=self.amp_dtype):
            preds = super().forward(inputs, **kwargs)
        for sample in preds:
            sample.set_pred_score(sample.pred_score.float())
        return preds
