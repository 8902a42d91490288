"""tools/serve.py: the JSON API, a bounded loopback load test, and the page
in headless Chromium (skipped, with the reason, where Chromium, its driver
or selenium is missing)."""
import io
import json
import os.path as osp
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import REAL_DATA, TINY_CONFIG
from deploy_fixtures import CLASSES, tiny_checkpoint
from PIL import Image

from custom_modules.apis.deploy.export import sample_photos
from custom_modules.apis.deploy.serve import create_app, load_classifier

MAX_BYTES, MAX_PIXELS = 2 << 20, 4_000_000


@pytest.fixture(scope='module')
def photos(synthetic_root):
    return sample_photos(REAL_DATA if osp.isdir(REAL_DATA) else
                         synthetic_root, 4)


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    """The app on a free loopback port, in a thread of this process."""
    import uvicorn
    checkpoint = tiny_checkpoint(tmp_path_factory.mktemp('serve'))
    app = create_app(load_classifier(TINY_CONFIG, checkpoint), MAX_BYTES,
                     MAX_PIXELS)
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
    yield f'http://127.0.0.1:{port}/'
    srv.should_exit = True
    thread.join(10)


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


def test_api_classifies_and_refuses_what_it_should(server, photos):
    status, answer = post_file(server, 'a.jpg', read(photos[0]))
    assert status == 200
    scores = [p['score'] for p in answer['predictions']]
    assert len(scores) == 5 and scores == sorted(scores, reverse=True)
    assert {p['class'] for p in answer['predictions']} == set(CLASSES)
    assert answer['seconds'] > 0
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


def test_page_shows_the_top_classes(browser, server, photos):
    status, answer = post_file(server, 'x.jpg', read(photos[0]))
    top = answer['predictions'][0]
    shown = upload_in_page(browser, server, photos[0])
    assert shown.get_attribute('class') == 'predictions'
    first_row = shown.text.splitlines()[0]
    assert first_row == f'{top["class"]} {100 * top["score"]:.1f} %'


def test_page_explains_a_file_that_is_not_an_image(browser, server,
                                                   tmp_path):
    fake = tmp_path / 'holiday.jpg'
    fake.write_text('this is a text file, not a photo')
    shown = upload_in_page(browser, server, str(fake))
    assert shown.get_attribute('class') == 'error'
    assert shown.text.startswith('holiday.jpg: not an image that can be read')
