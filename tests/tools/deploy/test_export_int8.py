"""export_onnx.py --int8 on the tiny ResNet-18 config: a statically
quantized model, checked against fp32 on the test split, that keeps its
metadata and says it is int8 wherever it runs; OpenVINO runs both files
as ONNX Runtime does."""
import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnx
import pytest
from conftest import TINY_CONFIG, load_tool
from deploy_fixtures import CLASSES, serving, tiny_checkpoint

from custom_modules.apis.deploy import onnx_classifier
from custom_modules.apis.deploy.export import sample_photos
from custom_modules.apis.deploy.onnx_classifier import (
    OnnxClassifier,
    load_rgb,
    openvino_installed,
)
from custom_modules.apis.deploy.serve import create_app
from custom_modules.utils.errors import UserInputError

export_main = load_tool('tools/deploy/export_onnx.py').main
infer_main = load_tool('tools/infer.py').main


@pytest.fixture(scope='module')
def exported(tmp_path_factory, annotated_root, synthetic_root):
    checkpoint = tiny_checkpoint(tmp_path_factory.mktemp('int8'), (2.0, 0.5))
    out = checkpoint[:-len('.pth')] + '.onnx'
    report = export_main([TINY_CONFIG, checkpoint, '--photos', synthetic_root,
                          '--int8', '--data-root', annotated_root,
                          '--calibration-images', '40'])
    return out, out[:-len('.onnx')] + '.int8.onnx', report


def test_int8_agrees_with_fp32_and_reports_accuracy(exported, capsys):
    fp32, int8, report = exported
    checked = report['int8']
    assert checked["images"] == 20  # the val split (no test.txt here)
    assert checked['top1_agreement'] >= 0.8
    assert abs(checked['int8_accuracy'] - checked['fp32_accuracy']) <= 0.2
    proto = onnx.load(int8)
    ops = {n.op_type for n in proto.graph.node}
    assert {'QuantizeLinear', 'DequantizeLinear'} <= ops  # QDQ
    assert any(i.data_type == onnx.TensorProto.INT8
               for i in proto.graph.initializer)  # int8 weights
    # every convolution runs in int8, and the only step back to float is
    # before the softmax
    assert checked['convolutions'] == 20
    assert checked['int8_convolutions'] == 20 and checked['dequantize'] == 1


def test_int8_keeps_the_metadata_and_says_so(exported, synthetic_root, capsys):
    fp32, int8, _ = exported
    ours, theirs = (OnnxClassifier(f, backend='onnxruntime') for f in (fp32, int8))
    meta = theirs.session.get_modelmeta().custom_metadata_map
    assert meta['precision'] == 'int8'
    assert json.loads(meta['quantization'])['calibration_images'] == 40
    fp32_meta = ours.session.get_modelmeta().custom_metadata_map
    for key in ('classes', 'preprocess', 'temperature', 'threshold'):
        assert meta[key] == fp32_meta[key]
    assert theirs.classes == CLASSES and theirs.calibrated
    assert (ours.backend, theirs.backend) == ('onnxruntime fp32',
                                              'onnxruntime int8')
    capsys.readouterr()
    results = infer_main([int8, synthetic_root, '--topk', '1',
                          '--backend', 'onnxruntime'])
    assert f'backend: onnxruntime int8 ({int8})' in capsys.readouterr().out
    probs = theirs.probabilities(np.full((2, 3, 64, 64), 128, np.float32))
    assert np.allclose(probs.sum(1), 1, atol=1e-5)  # the softmax stays float
    assert len(results) == 100


def test_serve_names_the_int8_backend(exported):
    _, int8, _ = exported
    with serving(create_app(OnnxClassifier(int8, backend='onnxruntime'))) as url:
        with urllib.request.urlopen(url + 'api/info', timeout=30) as response:
            info = json.load(response)
    assert info['backend'] == 'onnxruntime int8'
    describe = load_tool('tools/serve.py').describe
    assert describe(OnnxClassifier(int8, backend='onnxruntime')).startswith(
        'backend: onnxruntime int8;')


@pytest.mark.skipif(not openvino_installed(), reason='openvino is not installed '
                    '(requirements/optional.txt)')
@pytest.mark.parametrize('precision', ['fp32', 'int8'])
def test_openvino_runs_the_same_files(exported, synthetic_root, capsys, precision):
    path = exported[precision == 'int8']
    ours, theirs = (OnnxClassifier(path, backend=b)
                    for b in ('onnxruntime', 'openvino'))
    assert theirs.backend == f'openvino {precision}'
    assert OnnxClassifier(path).backend == theirs.backend  # the default here
    photos = sample_photos(synthetic_root, 20)
    batches = [np.stack([ours.prepare(load_rgb(p)) for p in photos[i::4]])
               for i in range(4)]
    expected = [ours.probabilities(b) for b in batches]
    with ThreadPoolExecutor(4) as pool:  # one infer request per thread
        got = list(pool.map(theirs.probabilities, batches))
    for a, b in zip(expected, got):
        assert (a.argmax(1) == b.argmax(1)).mean() >= 0.8
        assert np.abs(a - b).max() < (1e-4 if precision == 'fp32' else 0.1)
    capsys.readouterr()
    infer_main([path, photos[0]])
    assert f'backend: openvino {precision} ({path})' in capsys.readouterr().out


def test_without_openvino_onnxruntime_runs(exported, synthetic_root, monkeypatch):
    fp32 = exported[0]
    monkeypatch.setattr(onnx_classifier, 'openvino_installed', lambda: False)
    assert OnnxClassifier(fp32).backend == 'onnxruntime fp32'
    with pytest.raises(UserInputError, match='pip install openvino'):
        infer_main([fp32, synthetic_root, '--backend', 'openvino'])
