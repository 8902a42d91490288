"""Keep the head's logits on each predicted sample: mmpretrain's heads
return only the softmax, and the energy reject score needs the logits."""
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS


def keep_logits(model):
    """Make ``model`` (an ``ImageClassifier``, or a wrapper around one) set
    ``logits`` (float32) on every ``DataSample`` it predicts, beside
    ``pred_score``. Idempotent.

    Returns:
        nn.Module: The (unwrapped) model, hooked in place.
    """
    model = model.module if is_model_wrapper(model) else model
    if getattr(model, '_keeps_logits', False) or not hasattr(model, 'head'):
        return model  # hooked already, or not a classifier with a head
    last = {}

    def head_output(module, args, output):
        if isinstance(output, torch.Tensor):
            last['logits'] = output.detach()

    def predictions(module, args, kwargs, output):
        logits = last.pop('logits', None)
        if kwargs.get('mode') == 'predict' and logits is not None \
                and len(logits) == len(output):
            for sample, row in zip(output, logits.float()):
                sample.logits = row

    model.head.register_forward_hook(head_output)
    model.register_forward_hook(predictions, with_kwargs=True)
    model._keeps_logits = True
    return model


@HOOKS.register_module()
class KeepLogitsHook(Hook):
    """:func:`keep_logits` on the runner's model before testing, for the
    metrics that apply the energy reject score."""

    def before_test_epoch(self, runner):
        keep_logits(runner.model)
