"""Flower fine-tuning on top of mmpretrain.

The package mirrors mmpretrain's layout:

* ``datasets/``, ``engine/hooks/``, ``engine/schedulers/``: code registered
  into mmpretrain's registries. Configs import it through ``custom_imports``
  (``custom_modules.datasets``, ``custom_modules.engine``).
* ``apis/``: what the command-line tools in ``tools/`` share (config loading,
  pre-flight checks, pretrained weights, annotation files, the grid, the
  analysis plots). Nothing there is registered.

This file imports nothing but ``warnings``, so
``tools/dataset/make_annotations.py`` starts without loading torch.
"""
import warnings

# mmengine resolves the `mmpretrain::` config scope through pkg_resources;
# setuptools' deprecation notice is for mmengine, not for our users. Set
# here, before any tool imports mmengine.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
