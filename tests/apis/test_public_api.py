"""``custom_modules.apis`` is the table of contents a Python user imports."""
import subprocess
import sys

from conftest import ROOT, TINY_CONFIG

import custom_modules.apis as apis


def test_every_public_name_resolves():
    for name in apis.__all__:
        assert callable(getattr(apis, name)), name


def test_importing_apis_loads_no_torch():
    code = ('import sys, custom_modules.apis; '
            'print(any(m.split(".")[0] in {"torch", "mmengine"} '
            'for m in sys.modules))')
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == 'False'


def test_load_model_names_the_classes(tiny_checkpoint, tmp_path):
    import torch
    classes = ['a', 'b', 'c', 'd', 'e']
    state = torch.load(tiny_checkpoint, weights_only=True)
    state['meta'] = {'dataset_meta': {'classes': classes}}
    path = str(tmp_path / 'named.pth')
    torch.save(state, path)
    model = apis.load_model(TINY_CONFIG, path)
    assert not model.training
    assert apis.model_classes(model) == classes
    assert apis.model_classes(checkpoint=path) == classes
    assert apis.model_classes(apis.load_model(TINY_CONFIG,
                                              tiny_checkpoint)) == []
