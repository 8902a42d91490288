"""tools/deploy/export_onnx.py and the torch-free path of tools/infer.py on
the tiny ResNet-18 config, whose checkpoint carries a calibration
(temperature 2, threshold 0.5) that the export embeds."""
import json
import os.path as osp
import shutil
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from conftest import REAL_DATA, ROOT, TINY_CONFIG, load_tool, run_main
from deploy_fixtures import (
    CLASSES,
    TINY_META,
    exact_size_pngs,
    tiny_checkpoint,
    tiny_onnx,
)

from custom_modules.apis.deploy.export import deployable, sample_photos
from custom_modules.apis.deploy.onnx_classifier import (
    ModelFileError,
    OnnxClassifier,
    load_rgb,
)
from custom_modules.apis.model import load_model
from custom_modules.evaluation.calibration import energy_score

export_main = load_tool('tools/deploy/export_onnx.py').main
infer_main = load_tool('tools/infer.py').main
TEMPERATURE, THRESHOLD = 2.0, 0.5

# Runs tools/infer.py on an exported model where torch, mmengine, mmpretrain,
# mmcv and cv2 cannot be imported, then checks none of them was loaded.
TORCH_FREE = '''
import runpy, sys
class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'torch', 'torchvision', 'mmengine',
                                  'mmpretrain', 'mmcv', 'cv2', 'scipy'}:
            raise ImportError(name + ' is not installed here')
sys.meta_path.insert(0, Absent())
sys.argv = ['tools/infer.py', *sys.argv[1:]]
try:
    runpy.run_path('tools/infer.py', run_name='__main__')
except SystemExit as done:
    assert done.code == 0, done.code
loaded = [m for m in sys.modules if m.split('.')[0] in {'torch', 'mmengine'}]
assert not loaded, loaded
print('torch-free: ok')
'''


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory.mktemp('export'),
                           (TEMPERATURE, THRESHOLD))


@pytest.fixture(scope='module')
def photos(synthetic_root):
    return REAL_DATA if osp.isdir(REAL_DATA) else synthetic_root


@pytest.fixture(scope='module')
def exported(checkpoint, photos):
    out = osp.splitext(checkpoint)[0] + '.onnx'
    report = export_main([TINY_CONFIG, checkpoint, '--photos', photos])
    return out, report


def test_export_agrees_with_pytorch_and_carries_its_metadata(exported):
    out, report = exported
    assert report['images'] == 16 and report['top1_same'] == 16
    assert report['max_abs_diff'] < 1e-4
    assert report['pipeline_top1_same'] == 16
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta['classes']) == CLASSES
    # configs/demo at 64 px: ResizeEdge 73 (as 256 is to 224), crop 64.
    assert json.loads(meta['preprocess']) == {
        'resize_edge': {'scale': 73, 'edge': 'short'}, 'crop_size': 64}
    assert float(meta['temperature']) == TEMPERATURE
    assert float(meta['threshold']) == THRESHOLD
    images = np.random.default_rng(0).uniform(
        0, 255, (5, 3, 64, 64)).astype(np.float32)
    probs = session.run(None, {'images': images})[0]
    assert probs.shape == (5, 5)  # any batch size
    assert np.allclose(probs.sum(1), 1, atol=1e-5)
    single = session.run(None, {'images': images[:1]})[0]
    assert np.allclose(single, probs[:1], atol=1e-6)


def test_torch_free_inference_matches_pytorch(exported, checkpoint, photos,
                                              tmp_path):
    out, _ = exported
    images = sample_photos(photos)
    proc = subprocess.run(
        [sys.executable, '-c', TORCH_FREE, out, *images, '--topk', '1',
         '--out', str(tmp_path / 'onnx.json')],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'torch-free: ok' in proc.stdout
    with open(tmp_path / 'onnx.json') as f:
        onnx_top1 = [r['predictions'][0] for r in json.load(f)]
    torch_top1 = [r['predictions'][0] for r in infer_main(
        [TINY_CONFIG, checkpoint, *images, '--topk', '1', '--device', 'cpu'])]
    assert [p['class'] for p in onnx_top1] == [p['class'] for p in torch_top1]
    assert max(abs(a['score'] - b['score']) for a, b in
               zip(onnx_top1, torch_top1)) < 5e-3  # decoder/resize rounding


def answers(results):
    """(top-1 classes, unknown flags, {path: {class: score}})."""
    return ([r['predictions'][0]['class'] for r in results],
            [r['unknown'] for r in results],
            [{p['class']: p['score'] for p in r['predictions']}
             for r in results])


def test_onnx_applies_the_embedded_calibration_as_pytorch_does(
        exported, checkpoint, synthetic_root, tmp_path, capsys):
    """On lossless images already at the pipeline's size (so both paths see
    the same pixels), the .onnx answers as CONFIG CHECKPOINT with its
    calibration file: same top-1, same "unknown" flags, every score within
    1e-4; and the scores are softmax(log p / T) of the raw ones."""
    out, _ = exported
    images = exact_size_pngs(sample_photos(synthetic_root, 8), tmp_path, 73)

    def both(*flags):
        onnx = infer_main([out, *images, '--topk', '5', *flags])
        torch = infer_main([TINY_CONFIG, checkpoint, *images, '--topk', '5',
                            '--device', 'cpu', *flags])
        return answers(onnx), answers(torch)

    def assert_same(onnx, torch):
        assert onnx[:2] == torch[:2]
        assert max(abs(a[c] - b[c]) for a, b in zip(onnx[2], torch[2])
                   for c in CLASSES) < 1e-4

    onnx, torch = both()
    assert_same(onnx, torch)
    printed = capsys.readouterr().out
    assert f'calibration: temperature 2.0000 from {out} (embedded)' in printed
    # A calibration file without ``score`` (written before) is max_softmax.
    assert ('answering "unknown" where the max_softmax reject score is below '
            '0.5000') in printed
    assert onnx[1] == [s[c] < THRESHOLD for s, c in zip(onnx[2], onnx[0])]
    raw_onnx, raw_torch = both('--no-calibration')
    assert_same(raw_onnx, raw_torch)
    assert not any(raw_onnx[1])
    for scores, raw in zip(onnx[2], raw_onnx[2]):
        logits = np.log([raw[c] for c in CLASSES]) / TEMPERATURE
        expected = np.exp(logits) / np.exp(logits).sum()
        assert np.allclose([scores[c] for c in CLASSES], expected, atol=1e-6)
    assert max(abs(s[c] - r[c]) for s, r in zip(onnx[2], raw_onnx[2])
               for c in CLASSES) > 1e-2  # the temperature changed them
    # A threshold between two top scores: some photos unknown, some not.
    top = sorted(s[c] for s, c in zip(onnx[2], onnx[0]))
    gap = max(range(len(top) - 1), key=lambda i: top[i + 1] - top[i])
    onnx, torch = both('--threshold', str((top[gap] + top[gap + 1]) / 2))
    assert_same(onnx, torch)
    assert sum(onnx[1]) == gap + 1


def test_onnx_logits_match_pytorch_and_energy_is_applied_alike(
        exported, checkpoint, synthetic_root, tmp_path, capsys):
    """The export's ``logits`` output equals PyTorch's head output; with an
    energy calibration (the default score) the .onnx and CONFIG CHECKPOINT
    give every image the same energy and the same "unknown", and say so."""
    out, report = exported
    assert report['logits_max_abs_diff'] < 1e-3
    images = exact_size_pngs(sample_photos(synthetic_root, 8), tmp_path, 73)
    classifier = OnnxClassifier(out)
    assert classifier.has_logits
    batch = np.stack([classifier.prepare(load_rgb(p)) for p in images])
    with torch.no_grad():
        expected = deployable(load_model(TINY_CONFIG, checkpoint, 'cpu'))(
            torch.from_numpy(batch))[1].numpy()
    assert np.abs(classifier.logits(batch) - expected).max() < 1e-4
    assert np.ptp(energy_score(expected)) > 1e-2  # the images differ

    energy_ckpt = str(tmp_path / 'energy.pth')
    shutil.copy(checkpoint, energy_ckpt)

    def calibrate(threshold):
        with open(energy_ckpt + '.calibration.json', 'w') as f:
            json.dump({'score': 'energy', 'temperature': TEMPERATURE,
                       'threshold': threshold}, f)

    calibrate(-1e3)
    first = infer_main([TINY_CONFIG, energy_ckpt, *images, '--device', 'cpu'])
    values = sorted(r['reject_value'] for r in first)
    gap = max(range(len(values) - 1), key=lambda i: values[i + 1] - values[i])
    calibrate((values[gap] + values[gap + 1]) / 2)
    export_main([TINY_CONFIG, energy_ckpt, '--photos', synthetic_root,
                 '--check-count', '2'])
    assert 'where the energy reject score is below' in capsys.readouterr().out
    onnx = infer_main([energy_ckpt[:-4] + '.onnx', *images])
    torch_results = infer_main([TINY_CONFIG, energy_ckpt, *images,
                                '--device', 'cpu'])
    assert 'where the energy reject score is below' in capsys.readouterr().out
    for results in (onnx, torch_results):
        assert {r['reject_score'] for r in results} == {'energy'}
        assert sum(r['unknown'] for r in results) == gap + 1
    assert [r['unknown'] for r in onnx] == [r['unknown'] for r in torch_results]
    assert max(abs(a['reject_value'] - b['reject_value'])
               for a, b in zip(onnx, torch_results)) < 1e-4
    assert [r['reject_value'] for r in first] == pytest.approx(
        [r['reject_value'] for r in torch_results])


def test_a_file_exported_before_logits_still_answers_with_max_softmax(
        tmp_path):
    """A .onnx with ``probs`` only and no ``score`` (exported before energy
    was carried) answers as before; one whose calibration asks for energy
    is refused, naming the file and the fix."""
    old = tmp_path / 'old.onnx'
    old.write_bytes(tiny_onnx())
    classifier = OnnxClassifier(str(old))
    assert not classifier.has_logits and classifier.score == 'max_softmax'
    batch = np.random.default_rng(0).uniform(0, 255, (3, 3, 32, 32)).astype(
        np.float32)
    for answer in classifier.answers(batch):
        assert answer['reject_score'] == 'max_softmax'
        assert answer['reject_value'] == answer['predictions'][0]['score']
        assert answer['unknown'] == (answer['reject_value'] < 0.3)
    claims = tmp_path / 'claims_energy.onnx'
    proto = onnx.load_from_string(tiny_onnx(dict(TINY_META, score='energy',
                                                  threshold='5.0')))
    onnx.save(proto, str(claims))
    with pytest.raises(ModelFileError, match='export it again') as err:
        OnnxClassifier(str(claims))
    assert str(claims) in str(err.value) and 'logits' in str(err.value)


def test_export_without_calibration_and_bad_calibration_metadata(
        exported, checkpoint, photos, tmp_path, capsys):
    plain = str(tmp_path / 'plain.onnx')
    export_main([TINY_CONFIG, checkpoint, '--photos', photos, '--out', plain,
                 '--check-count', '1', '--no-calibration'])
    meta = ort.InferenceSession(plain).get_modelmeta().custom_metadata_map
    assert 'temperature' not in meta and 'threshold' not in meta
    assert 'calibration: none embedded' in capsys.readouterr().out
    model = onnx.load(exported[0])
    for entry in model.metadata_props:
        if entry.key == 'temperature':
            entry.value = '-1'
    broken = tmp_path / 'broken.onnx'
    onnx.save(model, str(broken))
    code, err = run_main(infer_main, [str(broken), photos], capsys)
    assert code == 2 and 'calibration metadata temperature=-1.0' in err


def test_bad_inputs_are_refused_before_export(exported, checkpoint, tmp_path,
                                              capsys):
    out, _ = exported
    code, err = run_main(export_main, [TINY_CONFIG, checkpoint, '--out', out],
                         capsys)
    assert code == 2 and f'{out} exists' in err
    code, err = run_main(export_main, [TINY_CONFIG, checkpoint, '--out',
                                       str(tmp_path / 'x.onnx'),
                                       '--cfg-options',
                                       'test_pipeline.1.type=Resize'],
                         capsys)
    assert code == 2 and 'ResizeEdge then CenterCrop' in err
    assert not osp.exists(tmp_path / 'x.onnx')
    not_an_image = tmp_path / 'notes.jpg'
    not_an_image.write_text('not a photo')
    code, err = run_main(infer_main, [out, str(not_an_image)], capsys)
    assert code == 2 and 'notes.jpg: not an image that can be read' in err
