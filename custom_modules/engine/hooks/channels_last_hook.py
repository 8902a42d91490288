"""Channels-last (NHWC) memory format for the model and its inputs."""
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS


def _inputs_channels_last(module, args, output):
    """Forward hook on a data preprocessor: NHWC batches for the model."""
    inputs = output.get('inputs') if isinstance(output, dict) else None
    if isinstance(inputs, torch.Tensor) and inputs.dim() == 4:
        output['inputs'] = inputs.contiguous(
            memory_format=torch.channels_last)  # in place: output stays


def to_channels_last(model):
    """Store ``model``'s 4-D weights and its data preprocessor's batches in
    channels-last order, which oneDNN and cuDNN convolve fastest.

    Args:
        model (nn.Module): A model, or a model wrapper around it.

    Returns:
        nn.Module: The (unwrapped) model, converted in place.
    """
    model = model.module if is_model_wrapper(model) else model
    model.to(memory_format=torch.channels_last)
    preprocessor = getattr(model, 'data_preprocessor', None)
    if preprocessor is not None and not getattr(
            preprocessor, '_channels_last', False):
        preprocessor.register_forward_hook(_inputs_channels_last)
        preprocessor._channels_last = True
    return model


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """:func:`to_channels_last` before the run (``--channels-last``)."""

    priority = 'VERY_HIGH'

    def before_run(self, runner):
        to_channels_last(runner.model)
