"""A test-only hook: every process of a distributed run saves its weights.

Checkpoints come from rank 0 only; to check that data-parallel training kept
the processes in step, each one writes its final state dict to
``$RANK_STATE_DIR/rank<k>.pth``.
"""
import os
import os.path as osp

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class RankStateHook(Hook):
    priority = 'LOWEST'

    def after_run(self, runner):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        out_dir = os.environ['RANK_STATE_DIR']
        os.makedirs(out_dir, exist_ok=True)
        torch.save(model.state_dict(),
                   osp.join(out_dir, f'rank{runner.rank}.pth'))
