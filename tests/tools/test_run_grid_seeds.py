"""The grid with several seeds: mean and sample std, best checkpoint kept.

A file of its own so that pytest-xdist runs it beside the other grid tests.
"""
import csv
import glob
import os
import os.path as osp

import pytest
from test_run_grid import CONFIG_DIR, SUBSET, grid_main, logged_best


def test_seeds_give_mean_and_std(annotated_root, tmp_path):
    work_dir = str(tmp_path / 'seeds')
    assert grid_main(['--config-dir', CONFIG_DIR, '--configs', SUBSET[0],
                      '--work-dir', work_dir, '--data-root', annotated_root,
                      '--from-scratch', '--seeds', '0', '1',
                      '--no-analysis']) == 0
    assert sorted(os.listdir(osp.join(work_dir, SUBSET[0]))) == [
        'seed0', 'seed1']
    with open(osp.join(work_dir, 'results.csv')) as f:
        (row, ) = list(csv.DictReader(f))
    assert row['seeds'] == '2' and row['val_acc_std'] != ''
    accs = [logged_best(osp.join(work_dir, SUBSET[0], s))[1]['accuracy/top1']
            for s in ('seed0', 'seed1')]
    assert float(row['val_acc']) == pytest.approx(sum(accs) / 2)
    assert '±' in open(osp.join(work_dir, 'results.md')).read()
    # Finished runs keep only their best checkpoint, which last_checkpoint
    # now names.
    for seed in ('seed0', 'seed1'):
        run_dir = osp.join(work_dir, SUBSET[0], seed)
        kept = glob.glob(osp.join(run_dir, '*.pth'))
        assert len(kept) == 1 and 'best_' in kept[0]
        assert open(osp.join(run_dir, 'last_checkpoint')).read() == kept[0]
