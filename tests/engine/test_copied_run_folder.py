"""A copied run folder resumes from its own checkpoints only (issue 20,
item 3): ``last_checkpoint`` names the original's file by absolute path."""
import shutil

import pytest
from conftest import TINY_CONFIG, load_tool, run_runner

from custom_modules.utils.checkpoint import last_checkpoint
from custom_modules.utils.errors import UserInputError

TRAIN = load_tool('tools/train.py')
PHASES = ('param_scheduler.warmup_end=0', 'param_scheduler.decay_end=1')


@pytest.fixture(scope='module')
def one_epoch_run(annotated_root, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('original') / 'run'
    run_runner(TRAIN.main, [TINY_CONFIG, '--data-root', annotated_root,
                            '--work-dir', str(work_dir), '--from-scratch',
                            '--cfg-options', 'train_cfg.max_epochs=1', *PHASES])
    return work_dir


def test_a_copy_without_its_checkpoint_refuses_to_resume(
        one_epoch_run, annotated_root, tmp_path):
    copy = tmp_path / 'copy'
    shutil.copytree(one_epoch_run, copy)
    for pth in copy.glob('*.pth'):
        pth.unlink()
    originals = {p: p.stat().st_mtime_ns for p in one_epoch_run.glob('*.pth')}
    assert originals
    with pytest.raises(UserInputError) as error:
        run_runner(TRAIN.main, [
            TINY_CONFIG, '--data-root', annotated_root, '--work-dir',
            str(copy), '--resume', '--from-scratch', '--cfg-options',
            'train_cfg.max_epochs=2', *PHASES])
    message = str(error.value)
    assert 'last_checkpoint' in message and str(copy) in message
    assert 'epoch_1.pth' in message
    assert not list(copy.glob('epoch_*.pth'))  # nothing trained
    assert {p: p.stat().st_mtime_ns for p in originals} == originals


def test_a_copy_with_its_checkpoint_resolves_inside_itself(one_epoch_run,
                                                          tmp_path):
    copy = tmp_path / 'copy'
    shutil.copytree(one_epoch_run, copy)
    assert last_checkpoint(str(copy)) == str(copy / 'epoch_1.pth')
    assert last_checkpoint(str(tmp_path / 'none')) is None


def test_best_checkpoint_falls_back_inside_the_copy(one_epoch_run, tmp_path):
    from custom_modules.apis.run_logs import best_checkpoint
    copy = tmp_path / 'copy'
    shutil.copytree(one_epoch_run, copy)
    for best in copy.glob('best_*.pth'):
        best.unlink()
    assert best_checkpoint(str(copy)) == str(copy / 'epoch_1.pth')
    (copy / 'epoch_1.pth').unlink()
    with pytest.raises(UserInputError, match='epoch_1.pth'):
        best_checkpoint(str(copy))


def test_a_full_disk_at_a_checkpoint_is_named_and_keeps_the_last(
        annotated_root, tmp_path, monkeypatch):
    """Issue 20, item 11: ENOSPC while saving epoch 2 names the file and the
    free space; epoch 1's commit stays whole and resumable."""
    import errno

    from mmengine.fileio import LocalBackend
    put = LocalBackend.put

    def full_disk(self, obj, filepath):
        if 'epoch_2' in str(filepath):
            with open(filepath, 'wb') as f:
                f.write(b'half')
            raise OSError(errno.ENOSPC, 'No space left on device')
        return put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', full_disk)
    work_dir = tmp_path / 'run'
    with pytest.raises(UserInputError) as error:
        run_runner(TRAIN.main, [TINY_CONFIG, '--data-root', annotated_root,
                                '--work-dir', str(work_dir), '--from-scratch'])
    message = str(error.value)
    assert 'no space left' in message and 'MiB free' in message
    assert 'epoch_2.pth' in message
    assert not list(work_dir.glob('.*.tmp'))
    assert last_checkpoint(str(work_dir)) == str(work_dir / 'epoch_1.pth')
    assert not list(work_dir.glob('*epoch_2.pth'))
    assert list(work_dir.glob('best_*_epoch_1.pth'))  # the best kept


def test_resume_then_test_calibrate_report_with_the_saved_config(
        one_epoch_run, tmp_path):
    """Issue 20, item 16: the report's "make it with" commands work on a
    resumed run (an interrupted run is one that stopped after epoch 1)."""
    import glob

    from custom_modules.apis.run_logs import best_checkpoint
    run = tmp_path / 'run'
    shutil.copytree(one_epoch_run, run)
    saved = glob.glob(str(run / '*.py'))
    assert len(saved) == 1
    from mmengine.config import Config
    data_root = Config.fromfile(saved[0]).train_dataloader.dataset.data_root
    run_runner(TRAIN.main, [
        TINY_CONFIG, '--data-root', data_root, '--work-dir', str(run),
        '--resume', '--from-scratch', '--cfg-options',
        'train_cfg.max_epochs=2', *PHASES])
    config = glob.glob(str(run / '*.py'))[0]
    assert 'resume = True' in open(config).read()
    ckpt = best_checkpoint(str(run))
    metrics = run_runner(load_tool('tools/test.py').main, [
        config, ckpt, '--work-dir', str(tmp_path / 'test')])
    assert 'accuracy/top1' in metrics
    run_runner(load_tool('tools/analysis/calibrate.py').main, [
        config, ckpt, '--no-ood', '--work-dir', str(tmp_path / 'cal')])
    assert glob.glob(str(run / '*.calibration.json'))
    load_tool('tools/analysis/make_report.py').main([str(run)])
    assert (run / 'report.html').is_file()
