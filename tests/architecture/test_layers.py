"""The import contracts in pyproject.toml hold, and they would catch a
plugin that reaches up into ``apis`` or a circle between modules."""
import os
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

LINT = shutil.which('lint-imports', path=os.path.dirname(sys.executable))
pytestmark = pytest.mark.skipif(LINT is None,
                                reason='import-linter is not installed')


def lint(root):
    env = dict(os.environ, PYTHONPATH=root)
    return subprocess.run([LINT, '--no-cache'], cwd=root, env=env,
                          capture_output=True, text=True)


def copy_project(tmp_path):
    dst = tmp_path / 'project'
    shutil.copytree(os.path.join(ROOT, 'custom_modules'),
                    dst / 'custom_modules',
                    ignore=shutil.ignore_patterns('__pycache__'))
    shutil.copy(os.path.join(ROOT, 'pyproject.toml'), dst)
    return dst


def append(path, line):
    with open(path, 'a', encoding='utf-8') as f:
        f.write(f'\n{line}\n')


def test_contracts_hold():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'BROKEN' not in result.stdout


def test_plugin_importing_apis_breaks_the_layers(tmp_path):
    root = copy_project(tmp_path)
    append(root / 'custom_modules/datasets/annotated_image_folder.py',
           'from custom_modules.apis import config  # noqa')
    result = lint(str(root))
    assert result.returncode != 0
    assert 'utils <- plugins <- apis BROKEN' in result.stdout
    assert 'custom_modules.datasets.annotated_image_folder -> ' \
        'custom_modules.apis.config' in result.stdout


def test_utils_importing_a_plugin_breaks_the_bottom_layer(tmp_path):
    root = copy_project(tmp_path)
    append(root / 'custom_modules/utils/fileio.py',
           'from custom_modules.engine import checkpoint_loading  # noqa')
    result = lint(str(root))
    assert result.returncode != 0
    assert 'The bottom layer imports nothing of ours BROKEN' in result.stdout


def test_a_circle_between_modules_is_caught(tmp_path):
    root = copy_project(tmp_path)
    # config already imports distributed; the way back closes a circle.
    append(root / 'custom_modules/apis/distributed.py',
           'from custom_modules.apis import config  # noqa')
    result = lint(str(root))
    assert result.returncode != 0
    assert 'No circles between sibling packages or modules BROKEN' \
        in result.stdout
