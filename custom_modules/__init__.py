"""Flower fine-tuning on top of mmpretrain, in layers that point one way
(checked by ``lint-imports``, contracts in pyproject.toml):

* ``utils/``: errors, atomic file output, the one safe checkpoint read,
  paths; imports nothing else of ours.
* ``datasets/``, ``models/``, ``engine/``, ``evaluation/``,
  ``visualization/``: code registered into mmpretrain's registries (configs
  import it through ``custom_imports``) and the library code beside it.
* ``apis/``: the Python entry points and the code behind ``tools/``.

This file imports nothing but ``warnings``: it only silences notices
meant for mmengine's and mmcv's maintainers, before any tool imports them.
"""
import warnings

# mmengine resolves the `mmpretrain::` config scope through pkg_resources;
# setuptools' deprecation notice is for mmengine, not for our users. Set
# here, before any tool imports mmengine.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
# mmcv-lite has no compiled ops; classification never uses them.
warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDef')
# With gradient accumulation the first iterations step the (iteration-based)
# schedulers before the optimizer's first step: the order is intended.
warnings.filterwarnings('ignore', message=r'Detected call of `scheduler.step\(\)`')
# The study's configs ask for 4 loader workers (sized for GPU machines); on a
# 2-core CPU torch repeats its advice at every epoch. The workers mostly wait
# there, and `--cfg-options train_dataloader.num_workers=N` sets another count.
warnings.filterwarnings('ignore', message='This DataLoader will create')
