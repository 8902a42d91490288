"""configs/demo/photos/efficientnet_lite0_fast.py: the photos demo config
with the speed levers, fp32 only, still exportable."""
import os.path as osp

from conftest import ROOT

from custom_modules.apis.config import load_config
from custom_modules.apis.deploy.export import preprocess_recipe

FAST = osp.join(ROOT, 'configs/demo/photos/efficientnet_lite0_fast.py')
DEMO = osp.join(ROOT, 'configs/demo/photos/efficientnet_lite0_freeze2_fixed.py')


def test_fast_recipe_levers_and_exportable_test_pipeline():
    fast, demo = load_config(FAST), load_config(DEMO)
    train = {t['type']: t for t in fast.train_dataloader.dataset.pipeline}
    assert train['RandomResizedCrop']['scale'] == 176
    assert fast.optim_wrapper.paramwise_cfg.custom_keys.head.lr_mult == 5.0
    # test at 224 px, as the demo; export_onnx.py reproduces it
    assert preprocess_recipe(fast) == preprocess_recipe(demo) == {
        'resize_edge': {'scale': 256, 'edge': 'short'}, 'crop_size': 224}
    assert fast.model.backbone.frozen_stages == 3
    loss = fast.model.head.loss  # label smoothing, its own class count
    assert (loss.type, loss.label_smooth_val) == ('LabelSmoothLoss', 0.1)
    assert loss.num_classes == fast.model.head.num_classes
    assert fast.train_dataloader.batch_size == demo.train_dataloader.batch_size
    assert fast.train_cfg.max_epochs == demo.train_cfg.max_epochs == 2
    hooks = [h['type'] for h in fast.custom_hooks]
    assert 'ChannelsLastHook' in hooks
    assert not fast.get('optim_wrapper', {}).get('type', '').startswith('Amp')
