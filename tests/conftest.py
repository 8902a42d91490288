"""Shared fixtures: a tiny synthetic flower set with annotation files."""
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
REAL_DATA = os.environ.get(
    'FLOWER_DATASET', osp.join(ROOT, '..', 'shared', 'datasets',
                               'flower_dataset'))

from make_annotations import make_annotations  # noqa: E402
from make_synthetic_flowers import make_dataset  # noqa: E402

import custom_modules  # noqa: E402,F401  (registers modules, safe globals)
from custom_modules.setup_config import image_size_options  # noqa: E402


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


def tiny_options(size=32, epochs=2, depth=18):
    """--cfg-options that shrink a ResNet config to seconds on a CPU."""
    return [
        f'train_cfg.max_epochs={epochs}',
        'param_scheduler.warmup_end=1',
        'param_scheduler.decay_end=1',
        f'model.backbone.depth={depth}',
        f'model.head.in_channels={512 if depth < 50 else 2048}',
        *[f'{split}_dataloader.{key}' for split in ('train', 'val', 'test')
          for key in ('batch_size=16', 'num_workers=0')],
        *image_size_options(size),
    ]


def run_tool(*args, check=True, timeout=600):
    """Run a project script as a user would, from the repository root."""
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f'{args} exited {proc.returncode}\n{proc.stdout[-3000:]}\n'
            f'{proc.stderr[-5000:]}')
    return proc
