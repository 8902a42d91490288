"""What the deploy tests share."""
import torch
from conftest import TINY_CONFIG

from custom_modules.apis.config import load_config

CLASSES = ['daisy', 'dandelion', 'rose', 'sunflower', 'tulip']


def tiny_checkpoint(folder):
    """The ResNet-18 stand-in's initial weights, with the final layer scaled
    up so that, as in a trained model, top-1 is not a near tie."""
    from mmpretrain.apis import get_model
    cfg = load_config(TINY_CONFIG)
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = get_model(cfg)
    state = model.state_dict()
    state['head.fc.weight'] *= 40
    path = str(folder / 'tiny.pth')
    torch.save({'state_dict': state,
                'meta': {'dataset_meta': {'classes': CLASSES}}}, path)
    return path
