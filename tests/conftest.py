"""Shared fixtures: a tiny synthetic flower set with annotation files, and
the ways tests run the tools (in-process, or as a user would)."""
import functools
import gc
import importlib.util
import os
import os.path as osp
import subprocess
import sys
import uuid

import pytest

if os.environ.get('PYTEST_XDIST_WORKER'):
    # Two workers share two cores: one math thread each (and in the tools
    # they start) instead of four threads fighting over two cores.
    os.environ['OMP_NUM_THREADS'] = '1'

import mmengine.config.config as mmengine_config
import mmengine.config.utils as mmengine_config_utils
from html_pages import browser  # noqa: F401  (headless Chromium)

import custom_modules.datasets  # noqa: F401  (registers the dataset)
import custom_modules.engine  # noqa: F401  (hooks, schedulers, safe globals)
from custom_modules.datasets.annotations import make_annotations
from custom_modules.datasets.synthetic_flowers import make_dataset
from custom_modules.utils.cli import run_cli
from custom_modules.utils.paths import ROOT, SHARED_PHOTOS

REAL_DATA = os.environ.get('FLOWER_DATASET', SHARED_PHOTOS)
# ResNet-18 stand-ins for configs/demo/resnet101_*: seconds on a CPU.
TINY_CONFIG = osp.join(ROOT, 'tests/data/configs/resnet18_freeze2_fixed.py')
TINY_CONFIG_MIX = osp.join(ROOT, 'tests/data/configs/resnet18_freeze3_mix.py')


# What mmengine works out again and again from the same input, cached for
# this process only (the tools' own processes run unchanged): for each
# `mmpretrain::` base of each config loaded, that mmpretrain is installed
# (reloading pkg_resources, ~0.015 s) and its ~85 model-index files
# (~0.05 s); for each checkpoint saved or config logged, the same config
# text formatted by yapf (~0.08 s).
mmengine_config.is_installed = functools.cache(mmengine_config.is_installed)
mmengine_config_utils.load = functools.cache(mmengine_config_utils.load)
_yapf_format = functools.cache(
    lambda text, style, format_code=mmengine_config.FormatCode: format_code(
        text, style_config=dict(style)))
mmengine_config.FormatCode = lambda text, style_config: _yapf_format(
    text, tuple(sorted(style_config.items())))


# The slowest files (CPU seconds measured 2026-11-29), handed out first:
# `make test` runs whole files on two workers in collection order
# (--dist loadfile --no-loadscope-reorder), and a long file handed out last
# would leave one worker alone at the end.
SLOWEST_FIRST = ('tools/test_run_grid.py', 'tools/test_demo.py',
                 'engine/test_kill_resume.py', 'tools/test_grid_reliability.py',
                 'tools/test_train_test_cli.py', 'tools/test_dist_train.py',
                 'apis/test_python_api_doc.py', 'tools/test_run_grid_seeds.py')


def pytest_collection_modifyitems(items):
    rank = {osp.join(ROOT, 'tests', path): i
            for i, path in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(str(item.path), len(rank)))


def pytest_collection_finish(session):
    """Leave what collection imported out of every later garbage
    collection: mmengine calls gc.collect() at each dataset it builds, and
    scanning the whole test process's heap each time cost ~0.3 s."""
    gc.freeze()


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory):
    """20 tiny images per class, in the class-per-folder layout."""
    root = tmp_path_factory.mktemp('synthetic') / 'flowers'
    make_dataset(str(root), per_class=20, size=40, seed=1)
    return str(root)


@pytest.fixture(scope='session')
def annotated_root(synthetic_root, tmp_path_factory):
    """Annotation files for :func:`synthetic_root` (the configs' data_root)."""
    out = tmp_path_factory.mktemp('annotations') / 'flower_dataset'
    make_annotations(synthetic_root, str(out), workers=1, progress=False)
    return str(out)


@pytest.fixture(scope='session')
def tiny_checkpoint(tmp_path_factory):
    """An untrained TINY_CONFIG checkpoint that fills the whole model."""
    import torch
    from mmpretrain.registry import MODELS

    from custom_modules.apis.config import load_config
    model = MODELS.build(load_config(TINY_CONFIG).model)
    path = str(tmp_path_factory.mktemp('checkpoint') / 'resnet18.pth')
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, path)
    return path


def run_tool(*args, check=True, timeout=600):
    """Run a project script as a user would, from the repository root."""
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f'{args} exited {proc.returncode}\n{proc.stdout[-3000:]}\n'
            f'{proc.stderr[-5000:]}')
    return proc


def run_main(main, argv, capsys):
    """Call a tool's ``main`` in-process as its command line does; return
    (exit code, stderr). For checks that end before any Runner is built."""
    with pytest.raises(SystemExit) as exit_info:
        run_cli(main, argv)
    return exit_info.value.code, capsys.readouterr().err


def run_runner(main, argv):
    """Call a tool's ``main`` in-process where it builds a Runner: a unique
    experiment name keeps mmengine's per-run singletons (logger, visualizer,
    message hub) apart when two runs start within the same second."""
    return main([*argv, '--cfg-options',
                 f'experiment_name=test_{uuid.uuid4().hex[:8]}'])


def run_log(work_dir):
    """Text of every mmengine log file the runs in ``work_dir`` wrote."""
    import glob
    return ''.join(open(p).read() for p in sorted(glob.glob(
        osp.join(work_dir, '*', '*.log'))))


class RunsCode:
    """Unpickling this runs code: it creates the file ``marker``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import builtins
        return builtins.exec, (f'open({self.marker!r}, "w").close()', )


def plant_pickle(path):
    """Write a pickle that creates ``<path>.marker`` if it is ever loaded;
    returns the marker's path (for tests that no file runs code)."""
    import pickle
    marker = f'{path}.marker'
    with open(path, 'wb') as f:
        pickle.dump(RunsCode(marker), f)
    return marker


def load_tool(path):
    """A script under tools/ as a module, to call its ``main`` in-process."""
    name = 'tool_' + osp.splitext(path)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(name, osp.join(ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
