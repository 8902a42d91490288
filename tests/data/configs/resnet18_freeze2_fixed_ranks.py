# The tiny config with a hook that saves every process's final weights
# (tests/data/plugins must be on PYTHONPATH), for the multi-process test.
_base_ = ['./resnet18_freeze2_fixed.py']

custom_imports = dict(imports=[*_base_.custom_imports.imports,
                               'rank_state_hook'])
custom_hooks = [
    dict(type='TrainAccuracyHook', interval=0),  # not needed: saves time
    dict(type='RankStateHook'),
]
