"""tools/serve.py: the JSON API, a bounded loopback load test, and the page
in headless Chromium (skipped, with the reason, where Chromium, its driver
or selenium is missing). The served checkpoint carries a calibration
(temperature 2, threshold 0.999: every photo is "unknown"); a second app
serves it with --no-calibration and --cam (Grad-CAM of the top class)."""
import base64
import io
import json
import os.path as osp
import shutil
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import REAL_DATA, TINY_CONFIG, load_tool, run_main
from deploy_fixtures import CLASSES, serving, tiny_checkpoint
from PIL import Image

from custom_modules.apis.deploy.export import sample_photos
from custom_modules.apis.deploy.onnx_classifier import load_rgb
from custom_modules.apis.deploy.serve import (
    cam_renderer,
    create_app,
    load_classifier,
)
from custom_modules.evaluation.calibration import energy_score

main = load_tool('tools/serve.py').main

MAX_BYTES, MAX_PIXELS = 2 << 20, 4_000_000
TEMPERATURE, THRESHOLD = 2.0, 0.999


@pytest.fixture(scope='module')
def photos(synthetic_root):
    return sample_photos(REAL_DATA if osp.isdir(REAL_DATA) else
                         synthetic_root, 4)


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory.mktemp('serve'),
                           (TEMPERATURE, THRESHOLD))


@pytest.fixture(scope='module')
def classifier(checkpoint):
    return load_classifier(TINY_CONFIG, checkpoint)[0]


@pytest.fixture(scope='module')
def server(classifier):
    with serving(create_app(classifier, MAX_BYTES, MAX_PIXELS)) as url:
        yield url


@pytest.fixture(scope='module')
def cam_model(checkpoint):
    """--no-calibration --cam: the classifier and the PyTorch model."""
    return load_classifier(TINY_CONFIG, checkpoint, calibration=False)


@pytest.fixture(scope='module')
def raw_server(cam_model):
    classifier, model = cam_model
    with serving(create_app(classifier, cam=cam_renderer(model))) as url:
        yield url


def post_file(url, name, data):
    """POST ``data`` as the multipart field ``file``; (status, JSON)."""
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{name}"\r\nContent-Type: application/octet-stream'
            f'\r\n\r\n').encode() + data + f'\r\n--{boundary}--\r\n'.encode()
    request = urllib.request.Request(
        url + 'api/classify', body, method='POST', headers={
            'Content-Type': f'multipart/form-data; boundary={boundary}'})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def test_api_classifies_and_refuses_what_it_should(server, photos,
                                                  classifier):
    status, answer = post_file(server, 'a.jpg', read(photos[0]))
    assert status == 200
    scores = [p['score'] for p in answer['predictions']]
    assert len(scores) == 5 and scores == sorted(scores, reverse=True)
    assert {p['class'] for p in answer['predictions']} == set(CLASSES)
    assert answer['seconds'] > 0
    # The checkpoint's calibration: softmax(log p / T) of the graph's p.
    assert answer['calibrated'] and answer['temperature'] == TEMPERATURE
    assert answer['threshold'] == THRESHOLD and answer['unknown']
    raw = classifier.probabilities(
        classifier.prepare(load_rgb(photos[0]))[None])[0].astype(float)
    expected = np.exp(np.log(raw) / TEMPERATURE)
    expected /= expected.sum()
    # A calibration file without ``score`` (written before): max_softmax.
    assert answer['reject_score'] == 'max_softmax'
    assert answer['reject_value'] == pytest.approx(expected.max(), abs=1e-6)
    assert np.allclose([p['score'] for p in answer['predictions']],
                       expected[[p['label'] for p in answer['predictions']]],
                       atol=1e-6)
    assert abs(expected.max() - raw.max()) > 1e-2  # the scaling shows
    status, answer = post_file(server, 'notes.jpg', b'just some text')
    assert status == 400
    assert answer['detail'].startswith('notes.jpg: not an image')
    status, answer = post_file(server, 'big.bin', b'0' * (MAX_BYTES + 1))
    assert status == 413 and 'upload limit' in answer['detail']
    huge = io.BytesIO()
    Image.new('RGB', (2100, 2000)).save(huge, 'PNG')  # 4.2 MP, a few KB
    status, answer = post_file(server, 'huge.png', huge.getvalue())
    assert status == 400 and 'over the limit of 4,000,000' in \
        answer['detail']


def test_concurrent_requests_get_their_own_answers(server, photos):
    """200 requests from 8 concurrent clients, loopback only: each answer
    equals the single-request answer for that photo."""
    data = [read(p) for p in photos]
    expected = [post_file(server, f'{i}.jpg', d)[1]['predictions']
                for i, d in enumerate(data)]
    assert len({e[0]['class'] for e in expected}) > 1 or \
        len({round(e[0]['score'], 6) for e in expected}) > 1

    def ask(k):
        i = k % len(data)
        status, answer = post_file(server, f'{i}.jpg', data[i])
        return i, status, answer

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(200)))
    assert all(status == 200 for _, status, _ in answers)
    for i, _, answer in answers:
        assert answer['filename'] == f'{i}.jpg'
        assert answer['predictions'] == expected[i]


def upload_in_page(browser, server, path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    browser.get(server)
    browser.find_element(By.ID, 'files').send_keys(osp.realpath(path))
    return WebDriverWait(browser, 60).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, '.predictions, .error'))[0]


def test_page_shows_calibrated_scores_and_unknown(browser, server, photos):
    from selenium.webdriver.common.by import By
    status, answer = post_file(server, 'x.jpg', read(photos[0]))
    top = answer['predictions'][0]
    shown = upload_in_page(browser, server, photos[0])
    assert 'predictions' in shown.get_attribute('class')
    first_row = shown.text.splitlines()[0]
    assert first_row == f'{top["class"]} {100 * top["score"]:.1f} %'
    flag = browser.find_element(By.CSS_SELECTOR, '.result .unknown')
    assert flag.text == (f'unknown: the max_softmax score '
                         f'{100 * top["score"]:.1f} % is below the threshold '
                         '99.9 %')
    status = browser.find_element(By.CSS_SELECTOR, '.result .muted').text
    assert status.endswith('ms. Calibrated probabilities (temperature 2.00);'
                           ' "unknown" below a max_softmax score of 99.9 %.')
    assert browser.find_element(By.ID, 'calibration').text == (
        'Calibrated probabilities (temperature 2.00); "unknown" below a '
        'max_softmax score of 99.9 %.')


def test_cam_answer_is_the_top_class_grad_cam(raw_server, cam_model,
                                              photos):
    """The map in the answer is Grad-CAM of the answered class over the
    upload as the model sees it (the test pipeline's crop)."""
    from custom_modules.visualization.cam import cam_overlay
    status, answer = post_file(raw_server, 'x.jpg', read(photos[0]))
    assert status == 200
    prefix = 'data:image/png;base64,'
    assert answer['cam'].startswith(prefix)
    with Image.open(io.BytesIO(base64.b64decode(
            answer['cam'][len(prefix):]))) as shown:
        shown = np.asarray(shown.convert('RGB'))
    overlay, heatmap, pred = cam_overlay(
        cam_model[1], load_rgb(photos[0]),
        target=answer['predictions'][0]['label'])
    assert pred['target'] == answer['predictions'][0]['label']
    assert shown.shape == overlay.shape
    assert np.abs(shown.astype(int) - overlay).max() <= 1
    assert heatmap.std() > 0  # a map, not a flat tint


def test_cam_needs_the_pytorch_model(tmp_path, capsys):
    code, err = run_main(main, [str(tmp_path / 'model.onnx'), '--cam'],
                         capsys)
    assert code == 2 and '--cam needs CONFIG CHECKPOINT' in err
    with pytest.raises(SystemExit):
        main([TINY_CONFIG, 'x.pth', '--target-layers', 'backbone.layer4'])
    assert 'add --cam' in capsys.readouterr().err


def test_page_without_calibration_and_with_a_cam(browser, raw_server,
                                                 photos):
    from selenium.webdriver.common.by import By
    status, answer = post_file(raw_server, 'x.jpg', read(photos[0]))
    assert not answer['calibrated'] and answer['threshold'] is None
    assert not answer['unknown']
    assert answer['cam'].startswith('data:image/png;base64,')
    shown = upload_in_page(browser, raw_server, photos[0])
    top = answer['predictions'][0]
    assert shown.text.splitlines()[0] == \
        f'{top["class"]} {100 * top["score"]:.1f} %'
    assert not browser.find_elements(By.CSS_SELECTOR, '.unknown')
    status = browser.find_element(By.CSS_SELECTOR, '.result .muted').text
    assert status.endswith('Uncalibrated probabilities; never "unknown".')
    cam = browser.find_element(By.CSS_SELECTOR, '.result img.cam')
    assert cam.get_attribute('src') == answer['cam']


def test_bad_threshold_is_refused_before_loading(capsys):
    code, err = run_main(main, [TINY_CONFIG, 'missing.pth', '--threshold',
                                'nan'], capsys)
    assert code == 2 and '--threshold nan: a finite number' in err


def test_energy_calibration_is_served_naming_the_score(checkpoint, photos,
                                                      tmp_path, capsys):
    """With an energy calibration the answer names the score and gives the
    energy of the logits; "unknown" is that value below the threshold;
    a max_softmax threshold outside [0, 1] is refused."""
    energy_ckpt = str(tmp_path / 'energy.pth')
    shutil.copy(checkpoint, energy_ckpt)
    with open(energy_ckpt + '.calibration.json', 'w') as f:
        json.dump({'score': 'energy', 'temperature': TEMPERATURE,
                   'threshold': 1e3}, f)  # every photo unknown
    classifier = load_classifier(TINY_CONFIG, energy_ckpt)[0]
    assert classifier.score == 'energy'
    with serving(create_app(classifier)) as url:
        status, answer = post_file(url, 'a.jpg', read(photos[0]))
    assert status == 200 and answer['reject_score'] == 'energy'
    batch = classifier.prepare(load_rgb(photos[0]))[None]
    assert answer['reject_value'] == pytest.approx(
        energy_score(classifier.logits(batch), TEMPERATURE)[0], abs=1e-6)
    assert answer['unknown'] and answer['threshold'] == 1e3
    code, err = run_main(main, [TINY_CONFIG, checkpoint, '--threshold',
                                '1.5'], capsys)
    assert code == 2 and 'a max_softmax threshold must be in [0, 1]' in err


def test_page_explains_a_file_that_is_not_an_image(browser, server,
                                                   tmp_path):
    fake = tmp_path / 'holiday.jpg'
    fake.write_text('this is a text file, not a photo')
    shown = upload_in_page(browser, server, str(fake))
    assert shown.get_attribute('class') == 'error'
    assert shown.text.startswith('holiday.jpg: not an image that can be read')
