"""tools/train.py prints progress and metrics; mmengine's full output goes
to the run's log file, and --verbose brings it back to the terminal."""
import os.path as osp
import re

from conftest import TINY_CONFIG, load_tool, run_runner

TRAIN = load_tool('tools/train.py')


def train(annotated_root, work_dir, *extra, config=TINY_CONFIG):
    run_runner(TRAIN.main, [
        config, '--from-scratch', '--data-root', annotated_root,
        '--work-dir', work_dir, *extra])


def test_console_shows_progress_and_metrics_only(annotated_root, tmp_path,
                                                 capsys):
    work_dir = str(tmp_path / 'quiet')
    # a paramwise_cfg (as the fast recipe's) makes mmengine log each frozen
    # parameter it skips: the log file's business, not the terminal's
    config = tmp_path / 'head_lr.py'
    config.write_text(f"_base_ = ['{TINY_CONFIG}']\noptim_wrapper = dict("
                      "paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=5.0)}))\n")
    train(annotated_root, work_dir, config=str(config))
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    assert len(lines) == 8, printed  # two epochs, then the summary
    log_file = re.fullmatch(r'full log: (\S+)', lines[0]).group(1)
    # 80 training images in batches of 16: 5 iterations.
    assert re.fullmatch(r'epoch 2/2 \[5/5\] 100%  \d\d:\d\d eta 00:00  '
                        r'loss \d+\.\d{4}  lr \d\.\d\de-\d\d  '
                        r'\d+\.\d img/s', lines[3]), lines[3]
    assert re.fullmatch(r'epoch 2/2 val  accuracy/top1 \d+\.\d\d  '
                        r'single-label/f1-score \d+\.\d\d  '
                        r'train_accuracy/top1 \d+\.\d\d', lines[4]), lines[4]
    assert lines[1].startswith('epoch 1/2 [5/5]')
    assert lines[2].startswith('epoch 1/2 val  accuracy/top1')
    assert lines[5].startswith(f'best checkpoint: {work_dir}')
    assert lines[6:] == ['epochs run: 2 of 2', f'results saved to {work_dir} '
                         f'(log: {log_file})']
    assert osp.dirname(osp.dirname(log_file)) == work_dir
    with open(log_file) as f:
        log = f.read()
    for text in ('System environment', 'Config:', 'Hooks will be executed',
                 'is skipped since its requires_grad=False',
                 'Epoch(train) [2][5/5]', 'Epoch(val) [2][2/2]'):
        assert text in log and text not in printed, text


def test_verbose_prints_mmengine_output(annotated_root, tmp_path, capsys):
    train(annotated_root, str(tmp_path / 'verbose'), '--verbose')
    printed = capsys.readouterr().out
    assert 'System environment' in printed
    assert 'Epoch(val) [2][2/2]' in printed
    assert 'full log:' not in printed  # mmengine's lines say it all


def test_advice_meant_for_other_setups_is_not_printed():
    """A search printed both at every trial: torch's worker-count advice (4
    loader workers on a 2-core CPU) and the scheduler-before-optimizer
    notice that gradient accumulation triggers by design."""
    import importlib
    import warnings

    import torch
    from mmengine.optim.scheduler import LinearLR
    from torch.utils.data import DataLoader

    import custom_modules
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1)
    scheduler = LinearLR(optimizer, by_epoch=False, end=10)
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()  # pytest's own filters hide UserWarnings
        importlib.reload(custom_modules)  # ours only
        warnings.simplefilter('always', append=True)
        DataLoader(range(4), num_workers=64).check_worker_number_rationality()
        scheduler.step()  # before any optimizer.step()
    assert [str(w.message) for w in caught] == []
