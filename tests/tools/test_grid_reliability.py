"""The grid survives a failing run, never leaves its training child behind,
and one work dir is trained by one process at a time."""
import contextlib
import csv
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, TINY_CONFIG, load_tool, run_main

from custom_modules.utils.errors import UserInputError
from custom_modules.utils.work_dir_lock import (
    LOCK_NAME,
    lock_work_dir,
    release_work_dirs,
)

TRAIN = load_tool('tools/train.py')
grid_main = load_tool('tools/run_grid.py').main


def write_config(folder, name, *lines):
    path = osp.join(folder, f'{name}.py')
    with open(path, 'w') as f:
        f.write('\n'.join([f'_base_ = [{TINY_CONFIG!r}]', *lines, '']))
    return path


def alive(pid):
    """Running, not a zombie waiting to be reaped."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] not in 'ZX'
    except FileNotFoundError:
        return False


def wait_for(condition, timeout=300, what=''):
    end = time.time() + timeout
    while not condition():
        assert time.time() < end, f'timed out waiting for {what}'
        time.sleep(0.2)


def test_grid_goes_on_past_a_failed_run(annotated_root, tmp_path, capsys):
    configs = str(tmp_path / 'configs')
    os.makedirs(configs)
    # Sorted first, fails in the pre-flight checks (exit 2).
    write_config(configs, 'broken_freeze2_fixed', 'train_cfg = dict(max_epochs=0)')
    write_config(configs, 'resnet18_freeze2_fixed')
    work_dir = str(tmp_path / 'grid')
    code = grid_main(['--config-dir', configs, '--work-dir', work_dir,
                      '--data-root', annotated_root, '--from-scratch',
                      '--no-analysis'])
    assert code == 1
    assert '1 of 2 runs failed' in capsys.readouterr().out
    with open(osp.join(work_dir, 'results.csv')) as f:
        rows = {osp.basename(r['config']): r for r in csv.DictReader(f)}
    broken, good = rows['broken_freeze2_fixed.py'], rows[
        'resnet18_freeze2_fixed.py']
    log = osp.join(work_dir, 'broken_freeze2_fixed', 'grid_train.log')
    assert broken['failed'] == (
        f'training {osp.join(configs, "broken_freeze2_fixed.py")} failed '
        f'(exit 2); log: {log}')
    assert broken['val_acc'] == ''
    with open(log) as f:
        assert 'max_epochs' in f.read()
    assert good['failed'] == '' and float(good['val_acc']) >= 0
    assert osp.isfile(osp.join(work_dir, 'resnet18_freeze2_fixed',
                               'done.json'))
    with open(osp.join(work_dir, 'results.md')) as f:
        table = f.read()
    assert f'failed (exit 2); log: {log} |' in table
    assert osp.isfile(osp.join(work_dir, 'results.png'))


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGKILL])
def test_killing_the_grid_kills_its_training_child(annotated_root, tmp_path,
                                                   sig):
    configs = str(tmp_path / 'configs')
    os.makedirs(configs)
    write_config(configs, 'resnet18_freeze2_fixed')
    work_dir = str(tmp_path / 'grid')
    lock = osp.join(work_dir, 'resnet18_freeze2_fixed', LOCK_NAME)
    grid = subprocess.Popen(
        [sys.executable, 'tools/run_grid.py', '--config-dir', configs,
         '--work-dir', work_dir, '--data-root', annotated_root,
         '--from-scratch', '--no-analysis', '--cfg-options',
         'train_cfg.max_epochs=100'], cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        # train.py writes its pid into the lock once it holds the work dir.
        wait_for(lambda: osp.isfile(lock) and open(lock).read().strip(),
                 what='the training child')
        child = int(open(lock).read())
        assert alive(child)
        grid.send_signal(sig)
        assert grid.wait(60) == (143 if sig == signal.SIGTERM else -9)
        wait_for(lambda: not alive(child), timeout=30,
                 what=f'child {child} to exit')
        assert osp.isfile(osp.join(work_dir, 'resnet18_freeze2_fixed',
                                   'wall_time.json')) == (
            sig == signal.SIGTERM)
    finally:
        grid.kill()
        grid.wait()


@contextlib.contextmanager
def held_by_another_process(work_dir):
    """A live process holding ``work_dir``'s lock; yields its pid."""
    holder = subprocess.Popen(
        [sys.executable, '-c',
         'import sys, time\n'
         'from custom_modules.utils.work_dir_lock import lock_work_dir\n'
         'lock_work_dir(sys.argv[1]); print("locked", flush=True)\n'
         'time.sleep(600)', work_dir],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == 'locked\n'
        yield holder.pid
    finally:
        holder.kill()
        holder.wait()


def test_second_process_in_a_work_dir_is_refused(annotated_root, tmp_path,
                                                  capsys):
    work_dir = str(tmp_path / 'run')
    with held_by_another_process(work_dir) as pid:
        code, err = run_main(TRAIN.main, [
            TINY_CONFIG, '--work-dir', work_dir, '--data-root',
            annotated_root, '--from-scratch'], capsys)
        assert code == 2
        assert f'in use by another training process (pid {pid}' in err
        assert os.listdir(work_dir) == [LOCK_NAME]  # nothing begun
        with pytest.raises(UserInputError, match=f'pid {pid}'):
            lock_work_dir(work_dir)
    # The holder died without unlocking: its stale lock is taken over.
    try:
        lock_work_dir(work_dir)
        with open(osp.join(work_dir, LOCK_NAME)) as f:
            assert int(f.read()) == os.getpid()
    finally:
        release_work_dirs()


def test_lock_is_released_for_the_next_run(tmp_path):
    lock_work_dir(str(tmp_path))
    lock_work_dir(str(tmp_path))  # the holder may ask again
    release_work_dirs()
    with held_by_another_process(str(tmp_path)) as pid:
        with open(tmp_path / LOCK_NAME) as f:
            assert int(f.read()) == pid
