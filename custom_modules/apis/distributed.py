"""Start the process group of a multi-process run before the Runner does
(``Runner.setup_env`` leaves an existing group alone): with gloo without a
GPU or with ``env_cfg.dist_cfg.backend='gloo'`` (mmengine's ``init_dist``
binds every process to a CUDA device), else by ``init_dist``, only earlier,
so the checks know each rank.
"""
import datetime
import os
import subprocess

import mmengine.dist
import torch
from mmengine.device import get_device
from torch import distributed as dist

from custom_modules.utils.errors import UserInputError


def accelerator_available():
    """A device mmengine's distributed launchers can bind processes to."""
    return get_device() not in ('cpu', 'mps')


def wants_gloo(cfg):
    """True where mmengine's own start (nccl on a bound GPU) cannot serve."""
    backend = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('backend')
    return backend == 'gloo' or not accelerator_available()


def export_slurm_env():
    """Slurm's task variables as torchrun's (as mmengine does for Slurm)."""
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        # No shell: the node list is passed as one argument.
        hosts = subprocess.run(  # nosec B603 B607: fixed command, Slurm's PATH
            ['scontrol', 'show', 'hostname', os.environ['SLURM_NODELIST']],
            capture_output=True, text=True, check=False).stdout.split()
        os.environ['MASTER_ADDR'] = hosts[0] if hosts else '127.0.0.1'


def uses_sync_bn(cfg):
    """``sync_bn`` set, or a ``SyncBN`` layer anywhere in the model."""
    def walk(node):
        if isinstance(node, dict):
            return node.get('type') == 'SyncBN' or any(
                walk(v) for v in node.values())
        if isinstance(node, (list, tuple)):
            return any(walk(v) for v in node)
        return False
    return bool(cfg.get('sync_bn')) or walk(cfg.get('model'))


def check_launcher_env(launcher):
    """The launcher's variables are there: the tool was started by it."""
    if launcher == 'slurm':
        missing = [n for n in ('SLURM_PROCID', 'SLURM_NTASKS',
                               'SLURM_NODELIST') if n not in os.environ]
        how = 'bash tools/slurm_train.sh PARTITION JOB CONFIG (srun sets them)'
    elif launcher == 'pytorch':
        missing = [n for n in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR',
                               'MASTER_PORT') if n not in os.environ]
        how = 'bash tools/dist_train.sh CONFIG N (torchrun sets them)'
    else:
        return
    if missing:
        raise UserInputError(
            f'--launcher {launcher}: {", ".join(missing)} not set. Start '
            f'several processes with: {how}, or drop --launcher to run in '
            'one process.')


def init_distributed(cfg):
    """Start the process group for ``cfg.launcher`` (gloo where mmengine
    would fail to); returns whether it started one."""
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or dist.is_initialized():
        return False
    check_launcher_env(launcher)
    dist_cfg = dict(cfg.get('env_cfg', {}).get('dist_cfg', {}))
    if not wants_gloo(cfg):
        mmengine.dist.init_dist(launcher, **dist_cfg)
        return True
    if launcher == 'mpi':
        raise UserInputError(
            '--launcher mpi needs GPUs; on CPUs start the processes with '
            'tools/dist_train.sh (torchrun, --launcher pytorch) or Slurm.')
    if launcher == 'slurm':
        export_slurm_env()
    if not torch.cuda.is_available() and uses_sync_bn(cfg):
        raise UserInputError(
            'SyncBN needs GPUs; on CPUs drop sync_bn / norm_cfg type SyncBN: '
            'BatchNorm statistics are averaged across processes after every '
            'epoch instead (SyncBuffersHook).')
    dist_cfg['backend'] = 'gloo'
    if torch.cuda.is_available():  # gloo with CUDA tensors
        torch.cuda.set_device(int(os.environ.get('LOCAL_RANK', 0)))
    timeout = dist_cfg.get('timeout')
    dist.init_process_group(backend='gloo', timeout=datetime.timedelta(
        seconds=timeout) if timeout else None)
    cfg.setdefault('env_cfg', {})['dist_cfg'] = dist_cfg  # as it ran
    return True
