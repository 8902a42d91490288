# Runtime: mmpretrain's defaults, plus our registered code and logging for a
# small dataset (a few dozen iterations per epoch).
_base_ = ['mmpretrain::_base_/default_runtime.py']

custom_imports = dict(
    imports=['custom_modules.datasets', 'custom_modules.engine',
             'custom_modules.evaluation.metrics', 'custom_modules.models'],
    allow_failed_imports=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    # The best (val accuracy/top1) and the last three epochs, written so that
    # a kill loses nothing and a resume is bit-identical (docs/reliability.md)
    checkpoint=dict(
        type='AtomicCheckpointHook', interval=1, max_keep_ckpts=3,
        save_best='auto'),
    # Several processes: average BatchNorm statistics after each epoch, so
    # every rank validates and saves the same ones.
    sync_buffers=dict(type='SyncBuffersHook'),
)

# Several processes: mmengine's wrapper, also for CPU modules (gloo).
model_wrapper_cfg = dict(
    type='mmpretrain.AnyDeviceDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)

# The terminal shows a progress bar and metrics (ProgressBarHook); mmengine's
# full output goes to the log file (tools/train.py --verbose prints it too).
runner_type = 'QuietRunner'
console_log_level = 'WARNING'

custom_hooks = [
    dict(type='ProgressBarHook'),
    # train_accuracy/top1 after each validation; interval=0 turns it off.
    dict(type='TrainAccuracyHook', interval=1),
    # mmpretrain's num_classes check, for runs without our tools' checks.
    dict(type='ClassNumCheckHook'),
]

# Reproducible by default; change with --cfg-options randomness.seed=N.
randomness = dict(seed=42, deterministic=False)

# Fixed-size crops: on a GPU, cuDNN times its convolutions once, keeps the
# fastest.
env_cfg = dict(cudnn_benchmark=True)

# Early stopping (tools/train.py --early-stop N): stop when the metric that
# picks the best checkpoint has not improved for N validations. None: never.
early_stop_patience = None
