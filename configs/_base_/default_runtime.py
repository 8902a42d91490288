# Runtime: mmpretrain's defaults, plus our registered code and logging that
# suits a small dataset (a few dozen iterations per epoch).
_base_ = ['mmpretrain::_base_/default_runtime.py']

custom_imports = dict(
    imports=['custom_modules.datasets', 'custom_modules.engine',
             'custom_modules.models'],
    allow_failed_imports=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    # Keep the best (by val accuracy/top1) and the last three epochs,
    # written so that a kill at any instant loses nothing and a resume
    # continues bit-identically (docs/reliability.md).
    checkpoint=dict(
        type='AtomicCheckpointHook', interval=1, max_keep_ckpts=3,
        save_best='auto'),
)

custom_hooks = [
    # Accuracy on the training split (test pipeline), logged after each
    # validation as train_accuracy/top1; interval=0 turns it off.
    dict(type='TrainAccuracyHook', interval=1),
    # mmpretrain's check that every num_classes matches the dataset's
    # classes, for runs started without our tools' pre-flight checks.
    dict(type='ClassNumCheckHook'),
]

# Reproducible by default; change with --cfg-options randomness.seed=N.
randomness = dict(seed=42, deterministic=False)
