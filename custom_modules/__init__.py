"""Flower fine-tuning on top of mmpretrain, in layers that point one way
(``lint-imports``): ``utils/`` at the bottom; the registered plugins
(``datasets``, ``models``, ``engine``, ``evaluation``, ``visualization``);
``apis/``, the entry points and the code behind ``tools/``.

Here: only silence notices meant for mmengine's and mmcv's maintainers.
"""
import warnings

# mmengine resolves `mmpretrain::` configs through pkg_resources.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
# mmcv-lite has no compiled ops; classification never uses them.
warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDef')
# With gradient accumulation the first iterations step the (iteration-based)
# schedulers before the optimizer's first step: the order is intended.
warnings.filterwarnings('ignore', message=r'Detected call of `scheduler.step\(\)`')
# 4 loader workers on a 2-core CPU: torch's advice at every epoch.
warnings.filterwarnings('ignore', message='This DataLoader will create')
