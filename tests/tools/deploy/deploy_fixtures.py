"""What the deploy tests share."""
import json

import torch
from conftest import TINY_CONFIG
from PIL import Image

from custom_modules.apis.config import load_config

CLASSES = ['daisy', 'dandelion', 'rose', 'sunflower', 'tulip']


def tiny_checkpoint(folder, calibration=None):
    """The ResNet-18 stand-in's initial weights, with the final layer scaled
    up so that, as in a trained model, top-1 is not a near tie; with
    ``calibration`` = (temperature, threshold), its calibration file."""
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
    if calibration:
        write_calibration(path, *calibration)
    return path


def write_calibration(checkpoint, temperature, threshold):
    """``<checkpoint>.calibration.json`` as tools/analysis/calibrate.py
    writes it (the fields the tools read)."""
    with open(checkpoint + '.calibration.json', 'w', encoding='utf-8') as f:
        json.dump({'temperature': temperature, 'threshold': threshold}, f)


def exact_size_pngs(photos, folder, short_edge):
    """The photos as lossless PNGs whose short edge is already
    ``short_edge`` (the test pipeline's ResizeEdge): Pillow and cv2 then
    decode and resize them to identical pixels."""
    paths = []
    for i, photo in enumerate(photos):
        with Image.open(photo) as image:
            image = image.convert('RGB').resize((short_edge + 3 * i,
                                                 short_edge))
        paths.append(str(folder / f'exact_{i}.png'))
        image.save(paths[-1])
    return paths
