"""The Python entry points, and the code behind ``tools/``.

Public names (imported on first use, so ``import custom_modules.apis`` stays
cheap and the ``.onnx`` path never loads torch)::

    from custom_modules.apis import load_config, load_model, predict

=====================  ==================================================
``load_config``        a config with the project's checks (``config``)
``load_model``         a trained classifier from config + checkpoint
``model_classes``      its class names (``model``)
``train`` / ``test``   what tools/train.py and tools/test.py do, flags as
                       keywords: ``train('configs/x.py', work_dir='w')``
``tune``               tools/tune.py: an Optuna search over the config's
                       ``tune_space``, each trial a ``train`` run
``run_grid``           tools/run_grid.py, flags as keywords (``grid.api``)
``build_inferencer``   mmpretrain's inferencer, amp/channels-last aware
``predict``            top-k, calibrated answers for image files (``model``)
``OnnxClassifier``     an exported model, torch-free (``deploy``)
``Classifier``         paths, arrays or URLs in, calibrated top-k out,
                       from config + checkpoint or ``.onnx``
                       (``classifier``; docs/python_api.md)
=====================  ==================================================
"""
import importlib

_PUBLIC = {
    'load_config': '.config',
    'load_model': '.model',
    'model_classes': '.model',
    'train': '.training',
    'test': '.testing',
    'tune': '.tuning',
    'run_grid': '.grid.api',
    'build_inferencer': '.model',
    'predict': '.model',
    'OnnxClassifier': '.deploy.onnx_classifier',
    'Classifier': '.classifier',
}
__all__ = list(_PUBLIC)


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    return getattr(importlib.import_module(_PUBLIC[name], __name__), name)
