"""What the deploy tests share."""
import contextlib
import json
import socket
import threading
import time

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


TINY_META = {
    'classes': json.dumps(CLASSES), 'temperature': '1.5', 'threshold': '0.3',
    'preprocess': json.dumps({'resize_edge': {'scale': 40, 'edge': 'short'},
                              'crop_size': 32})}


def tiny_onnx(meta=None, crop=32):
    """A hand-built classifier as export_onnx.py lays it out (``images``
    float32 Nx3xCxC in, ``probs`` Nx5 out, the metadata ``meta``, default
    :data:`TINY_META`), without torch: bytes, built in milliseconds."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    weights = np.random.default_rng(0).normal(size=(3, 5)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node('GlobalAveragePool', ['images'], ['pooled']),
         helper.make_node('Flatten', ['pooled'], ['flat']),
         helper.make_node('MatMul', ['flat', 'w'], ['logits']),
         helper.make_node('Softmax', ['logits'], ['probs'], axis=-1)],
        'tiny',
        [helper.make_tensor_value_info('images', TensorProto.FLOAT,
                                       ['batch', 3, crop, crop])],
        [helper.make_tensor_value_info('probs', TensorProto.FLOAT,
                                       ['batch', 5])],
        [numpy_helper.from_array(weights / 64, 'w')])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
    proto.ir_version = 8
    helper.set_model_props(proto, TINY_META if meta is None else meta)
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


@contextlib.contextmanager
def serving(app):
    """The app on a free loopback port, in a thread of this process."""
    import uvicorn
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host='127.0.0.1', port=port,
                                        log_level='warning'))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(300):
        if srv.started:
            break
        time.sleep(0.1)
    try:
        yield f'http://127.0.0.1:{port}/'
    finally:
        srv.should_exit = True
        thread.join(10)
