"""docs/python_api.md runs: its python blocks, in order, with the first
block's names pointed at the tiny stand-in model and data, and its URL at a
local HTTP server; and the URL handling behind it (Classifier, infer.py)."""
import functools
import http.server
import importlib.util
import os
import os.path as osp
import re
import shutil
import threading
import uuid

import pytest
from conftest import ROOT, TINY_CONFIG, load_tool, run_main

from custom_modules.apis import Classifier
from custom_modules.utils.errors import UserInputError

DOC = osp.join(ROOT, 'docs/python_api.md')
FIXTURES = load_tool('tests/tools/deploy/deploy_fixtures.py')
INFER = load_tool('tools/infer.py')


def python_blocks(path):
    return re.findall(r'^```python\n(.*?)^```', open(path).read(),
                      re.M | re.S)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope='module')
def site(tmp_path_factory, synthetic_root):
    """A local HTTP server holding one photo; yields its base URL."""
    folder = tmp_path_factory.mktemp('site')
    shutil.copy(osp.join(synthetic_root, 'daisy',
                         sorted(os.listdir(
                             osp.join(synthetic_root, 'daisy')))[0]),
                folder / 'daisy.png')
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()


@pytest.fixture(scope='module')
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp('models')
    checkpoint = FIXTURES.tiny_checkpoint(folder, calibration=(1.5, 0.3))
    onnx = folder / 'tiny.onnx'
    onnx.write_bytes(FIXTURES.tiny_onnx())
    return checkpoint, str(onnx)


def test_the_documented_example_runs(site, models, synthetic_root,
                                     annotated_root, tmp_path, capsys):
    blocks = python_blocks(DOC)
    assert 'CONFIG' in blocks[0] and len(blocks) >= 5
    checkpoint, onnx = models
    names = dict(
        CONFIG=TINY_CONFIG, CHECKPOINT=checkpoint, ONNX_MODEL=onnx,
        PHOTO=osp.join(synthetic_root, 'rose', sorted(os.listdir(
            osp.join(synthetic_root, 'rose')))[0]),
        URL=f'{site}/daisy.png', DATA_ROOT=annotated_root,
        TUNE_CONFIG=osp.join(ROOT, 'tests/data/configs/resnet18_tune.py'),
        WORK_DIR=str(tmp_path / 'run'),
        GRID_FLAGS=dict(config_dir=osp.dirname(TINY_CONFIG), from_scratch=True,
                        configs=[osp.splitext(osp.basename(TINY_CONFIG))[0]]),
        TRAIN_FLAGS=dict(from_scratch=True, cfg_options={
            'experiment_name': f'doc_{uuid.uuid4().hex[:8]}'}))
    # the doc's own names are the ones the test replaces
    assert set(re.findall(r'^(\w+) =', blocks[0], re.M)) == set(names)
    namespace = dict(names)
    for block in blocks[1:]:
        if 'tune(' in block and importlib.util.find_spec('optuna') is None:
            continue  # optional dependency; tests/tools/test_tune.py skips
        exec(compile(block, DOC, 'exec'), namespace)
    out = capsys.readouterr().out
    assert f'{site}/daisy.png' in out and 'test accuracy' in out
    assert 'ResNet-18 fixed' in out and 'results.md' in out  # the grid's
    assert namespace['clf'].temperature == 1.5


def test_classifier_answers_arrays_as_their_files(models, synthetic_root):
    import numpy as np
    from PIL import Image
    checkpoint, onnx = models
    folder = osp.join(synthetic_root, 'tulip')
    path = osp.join(folder, sorted(os.listdir(folder))[0])
    array = np.asarray(Image.open(path).convert('RGB'))
    for clf in (Classifier(TINY_CONFIG, checkpoint, device='cpu'),
                Classifier(onnx)):
        by_path, by_array = clf.predict([path, array], topk=5)
        assert by_array['path'] == '<array 1>'
        assert ([p['label'] for p in by_path['predictions']]
                == [p['label'] for p in by_array['predictions']])
        assert by_path['predictions'][0]['score'] == pytest.approx(
            by_array['predictions'][0]['score'], abs=1e-4)


def test_a_url_that_fails_is_named(models, site):
    url = f'{site}/missing.jpg'
    with pytest.raises(UserInputError, match=re.escape(url)):
        Classifier(models[1]).predict(url)


def test_infer_takes_urls(models, site, capsys):
    """Before: "no such file or folder" for a URL."""
    url = f'{site}/daisy.png'
    results = INFER.main([models[1], url, '--topk', '2'])
    assert results[0]['path'] == url and len(results[0]['predictions']) == 2
    assert url in capsys.readouterr().out
    code, err = run_main(INFER.main, [models[1], f'{site}/nothing.png'],
                         capsys)
    assert code != 0 and f'{site}/nothing.png' in err


def test_a_url_announcing_too_many_bytes_is_refused_unread(tmp_path, monkeypatch):
    """Refused from its Content-Length, before any of the body is read."""
    from custom_modules.apis import inference

    class Huge:
        headers = {'Content-Length': str(2 << 30)}

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self, *args):
            raise AssertionError('the body was read')

    monkeypatch.setattr(inference.urllib.request, 'urlopen',
                        lambda *args, **kwargs: Huge())
    with pytest.raises(UserInputError, match=r'2,147,483,648 bytes is over'):
        inference.download('http://example.invalid/big.jpg', str(tmp_path))
