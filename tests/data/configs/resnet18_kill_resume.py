# The ResNet-18 stand-in for the kill-and-resume tests: 3 epochs, one kept
# epoch checkpoint (as the grid's demo runs keep), deterministic CPU kernels,
# and FaultInjectionHook (tests/data/plugins must be on PYTHONPATH), armed
# per run with --cfg-options custom_hooks.2.kill_after_iter=N (or
# kill_in_save / kill_in_best_save).
_base_ = ['./resnet18_freeze2_fixed.py']

custom_imports = dict(imports=[*_base_.custom_imports.imports,
                               'fault_injection_hook'])

train_cfg = dict(max_epochs=3)
default_hooks = dict(checkpoint=dict(max_keep_ckpts=1))
randomness = dict(seed=0, deterministic=True)
custom_hooks = [
    dict(type='TrainAccuracyHook', interval=1),
    dict(type='ClassNumCheckHook'),
    dict(type='FaultInjectionHook'),
]
