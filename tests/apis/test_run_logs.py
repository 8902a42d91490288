"""best_checkpoint() picks a whole, committed best checkpoint."""
import os.path as osp

import torch

from custom_modules.apis.run_logs import best_checkpoint


def save(path, truncate=False):
    torch.save({'state_dict': {'w': torch.zeros(64)}}, path)
    if truncate:  # as a kill in the middle of torch.save leaves it
        with open(path, 'r+b') as f:
            f.truncate(osp.getsize(path) // 2)
    return path


def test_best_checkpoint_skips_truncated_and_uncommitted_bests(tmp_path):
    work_dir = str(tmp_path)
    good = save(osp.join(work_dir, 'best_accuracy_top1_epoch_2.pth'))
    save(osp.join(work_dir, 'best_accuracy_top1_epoch_3.pth'), truncate=True)
    # Written by a commit a kill interrupted: last_checkpoint still names 4.
    save(osp.join(work_dir, 'best_accuracy_top1_epoch_5.pth'))
    save(osp.join(work_dir, '.best_accuracy_top1_epoch_4.pth.tmp'))
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(save(osp.join(work_dir, 'epoch_4.pth')))
    assert best_checkpoint(work_dir) == good


def test_best_checkpoint_falls_back_to_the_last_checkpoint(tmp_path):
    work_dir = str(tmp_path)
    save(osp.join(work_dir, 'best_accuracy_top1_epoch_1.pth'), truncate=True)
    last = save(osp.join(work_dir, 'epoch_1.pth'))
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(last)
    assert best_checkpoint(work_dir) == last
