"""A test-time resize that fits small photos (``--low-res-policy`` of
``tools/analysis/robustness.py``)."""
from mmcv.transforms import BaseTransform, CenterCrop, Resize
from mmpretrain.datasets.transforms import ResizeEdge
from mmpretrain.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LowResPolicy(BaseTransform):
    """``ResizeEdge(scale)`` then ``CenterCrop(crop_size)``, except that an
    image whose short side is below ``threshold`` is resized whole to the
    crop size: a thumbnail keeps its border.

    Args:
        scale (int): The short side before the crop (``ResizeEdge``).
        crop_size (int): The side of the square the model sees.
        threshold (int, optional): Short sides below it count as small
            (default: ``crop_size``).
        interpolation (str): Both resizes' interpolation.
    """

    def __init__(self, scale=256, crop_size=224, threshold=None,
                 interpolation='bilinear'):
        self.resize_edge = ResizeEdge(scale, edge='short',
                                      interpolation=interpolation)
        self.crop = CenterCrop(crop_size)
        self.whole = Resize((crop_size, crop_size), keep_ratio=False,
                            interpolation=interpolation)
        self.threshold = threshold or crop_size

    def transform(self, results):
        if min(results['img'].shape[:2]) < self.threshold:
            return self.whole(results)
        return self.crop(self.resize_edge(results))

    def __repr__(self):
        return (f'{type(self).__name__}(resize_edge={self.resize_edge}, '
                f'crop={self.crop}, threshold={self.threshold})')


def with_low_res_policy(pipeline, threshold=None):
    """``pipeline`` with its short-side ``ResizeEdge`` + ``CenterCrop``
    replaced by one :class:`LowResPolicy` of the same sizes."""
    types = [t['type'] for t in pipeline]
    for i in range(len(types) - 1):
        edge, crop = pipeline[i], pipeline[i + 1]
        if types[i:i + 2] == ['ResizeEdge', 'CenterCrop'] and \
                edge.get('edge', 'short') == 'short':
            policy = dict(type='LowResPolicy', scale=edge['scale'],
                          crop_size=crop['crop_size'], threshold=threshold,
                          interpolation=edge.get('interpolation',
                                                 'bilinear'))
            return [*pipeline[:i], policy, *pipeline[i + 2:]]
    raise ValueError(f'no ResizeEdge + CenterCrop in the pipeline {types} '
                     'for the low-resolution policy to replace')
