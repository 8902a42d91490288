"""Bad numbers, files and saved configs get a named error before any work
(issue 20, items 12, 13 and 16); each case failed with a traceback before."""
import os.path as osp
import shutil

import pytest
from conftest import TINY_CONFIG, load_tool, run_main

TRAIN = load_tool('tools/train.py')
TEST = load_tool('tools/test.py')


@pytest.mark.parametrize('option, named', [
    ('train_cfg.max_epochs=abc', "train_cfg.max_epochs='abc'"),
    ('train_cfg.max_epochs=0', 'train_cfg.max_epochs=0'),
    ('train_dataloader.batch_size=0', 'train_dataloader.batch_size=0'),
    ('val_dataloader.batch_size=-1', 'val_dataloader.batch_size=-1'),
    ('optim_wrapper.optimizer.lr=nan', 'optim_wrapper.optimizer.lr=nan'),
    ('optim_wrapper.optimizer.lr=-0.1', 'optim_wrapper.optimizer.lr=-0.1'),
    ('train_cfg.val_interval=0', 'train_cfg.val_interval=0'),
])
def test_bad_numbers_stop_before_the_run(option, named, annotated_root,
                                         tmp_path, capsys):
    work_dir = tmp_path / 'run'
    code, err = run_main(TRAIN.main, [
        TINY_CONFIG, '--data-root', annotated_root, '--work-dir',
        str(work_dir), '--from-scratch', '--cfg-options', option], capsys)
    assert code == 2
    assert named in err and 'must be' in err
    assert not work_dir.exists()


def test_a_text_file_as_checkpoint_is_named(annotated_root, tmp_path, capsys):
    text = tmp_path / 'notes.pth'
    text.write_text('hello world\n')
    code, err = run_main(TEST.main, [TINY_CONFIG, str(text), '--data-root',
                                     annotated_root], capsys)
    assert code == 2
    assert f'checkpoint {text} cannot be read' in err


def test_a_resumed_runs_saved_config_can_be_tested(annotated_root,
                                                   tiny_checkpoint, tmp_path,
                                                   capsys):
    """The config a resumed run saves carries resume=True and load_from;
    test.py must evaluate the given checkpoint, not resume."""
    saved = tmp_path / 'saved_config.py'
    shutil.copy(TINY_CONFIG, saved)
    with open(saved, 'a', encoding='utf-8') as f:
        f.write(f'\nresume = True\nload_from = {str(tmp_path / "gone.pth")!r}'
                '\n')
    # the saved config inherits by relative path: keep it beside the tiny one
    target = osp.join(osp.dirname(TINY_CONFIG), '_resumed_tmp.py')
    shutil.copy(saved, target)
    try:
        metrics = TEST.main([target, tiny_checkpoint, '--data-root',
                             annotated_root, '--work-dir',
                             str(tmp_path / 'test')])
    finally:
        import os
        os.remove(target)
    assert 'accuracy/top1' in metrics
