"""A sampler that draws every class equally often (with replacement)."""
import torch
from mmengine.dataset import DefaultSampler
from mmpretrain.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class ClassBalancedSampler(DefaultSampler):
    """Each epoch draws ``len(dataset)`` indices, an image's chance inversely
    proportional to its class's size, so each class is drawn equally often.

    Args:
        dataset (Dataset): A dataset with ``get_gt_labels()``.
        shuffle (bool): Unused (drawing is random); kept for configs.
        seed (int, optional): The seed (default: mmengine's shared one).
        round_up (bool): As :class:`mmengine.dataset.DefaultSampler`.
    """

    def __iter__(self):
        labels = torch.as_tensor(self.dataset.get_gt_labels())
        weights = 1.0 / torch.bincount(labels).float()[labels]
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        indices = torch.multinomial(weights, self.total_size, True,
                                    generator=generator).tolist()
        return iter(indices[self.rank:self.total_size:self.world_size])
