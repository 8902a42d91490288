"""Check a folder of class sub-folders and write ImageNet-style annotations.

    python tools/dataset/make_annotations.py ../shared/datasets/flower_dataset

writes ``classes.txt``, ``train.txt`` and ``val.txt`` (and ``test.txt`` with
``--split 8:1:1``) to ``data/flower_dataset/``. Every file is decoded and
hashed first (in parallel); problems are reported with the file and a fix,
and either stop the run (``--on-problem stop``, the default) or are left out
and listed (``--on-problem exclude``). The source folder is only read.

Lines are ``relative/path.jpg label``, relative to the output folder (the
configs' ``data_root``). By default they go through one symlink,
``<out>/images -> <source>``, so images stay in place; ``--layout symlink``
or ``--layout copy`` materialise ``<out>/<split>/<class>/<file>`` instead.
"""
from custom_modules.datasets.annotations.cli import main
from custom_modules.utils.cli import run_cli

if __name__ == '__main__':
    run_cli(main)
