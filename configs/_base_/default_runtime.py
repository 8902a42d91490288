# Runtime: mmpretrain's defaults, plus our registered code and logging that
# suits a small dataset (a few dozen iterations per epoch).
_base_ = ['mmpretrain::_base_/default_runtime.py']

custom_imports = dict(
    imports=['custom_modules.datasets', 'custom_modules.engine',
             'custom_modules.evaluation.metrics', 'custom_modules.models'],
    allow_failed_imports=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    # Keep the best (by val accuracy/top1) and the last three epochs,
    # written so that a kill at any instant loses nothing and a resume
    # continues bit-identically (docs/reliability.md).
    checkpoint=dict(
        type='AtomicCheckpointHook', interval=1, max_keep_ckpts=3,
        save_best='auto'),
    # Several processes (--launcher): average BatchNorm statistics across
    # them after each epoch, so validation and the checkpoint use the same
    # statistics on every rank. Does nothing in one process.
    sync_buffers=dict(type='SyncBuffersHook'),
)

# Several processes: mmengine's data-parallel wrapper, which also accepts CPU
# modules (gloo), with mmengine's own defaults for it.
model_wrapper_cfg = dict(
    type='mmpretrain.AnyDeviceDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)

# The terminal shows a progress bar per epoch and one line of metrics
# (ProgressBarHook); mmengine's full output (environment, config, hooks,
# every LoggerHook line) goes to the run's log file at log_level only.
# tools/train.py --verbose (or --log-level INFO) prints it all again.
runner_type = 'QuietRunner'
console_log_level = 'WARNING'

custom_hooks = [
    dict(type='ProgressBarHook'),
    # Accuracy on the training split (test pipeline), logged after each
    # validation as train_accuracy/top1; interval=0 turns it off.
    dict(type='TrainAccuracyHook', interval=1),
    # mmpretrain's check that every num_classes matches the dataset's
    # classes, for runs started without our tools' pre-flight checks.
    dict(type='ClassNumCheckHook'),
]

# Reproducible by default; change with --cfg-options randomness.seed=N.
randomness = dict(seed=42, deterministic=False)

# Training crops have one fixed size, so on a GPU let cuDNN time its
# convolution algorithms once and keep the fastest (no effect on the CPU).
env_cfg = dict(cudnn_benchmark=True)

# Early stopping (tools/train.py --early-stop N): stop when the metric that
# picks the best checkpoint has not improved for N validations. None: never.
early_stop_patience = None
