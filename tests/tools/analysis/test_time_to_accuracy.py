"""tools/analysis/benchmark.py --time-to-accuracy on the tiny config: wall
time to the first epoch at the target (from the run's scalars), the test
accuracy of that epoch's checkpoint, the table and the plot."""
import itertools
import os.path as osp
from types import SimpleNamespace
from unittest import mock

from conftest import TINY_CONFIG, load_tool
from PIL import Image

from custom_modules.apis.benchmark import time_to_accuracy as tta
from custom_modules.apis.run_logs import read_log_entries
from custom_modules.engine.hooks import wall_clock_hook

benchmark_main = load_tool('tools/analysis/benchmark.py').main


def test_time_to_a_low_target_and_plot(tmp_path, annotated_root, capsys):
    out = str(tmp_path / 'tta')
    # the clock: training starts at 1000 s; epoch 1 validates at 1100, 2 at 1300
    clock = SimpleNamespace(time=lambda: 1000.0)
    epochs = SimpleNamespace(time=itertools.chain([1100.0, 1300.0]).__next__)
    with mock.patch.object(tta, 'time', clock), \
            mock.patch.object(wall_clock_hook, 'time', epochs):
        results = benchmark_main([
            '--time-to-accuracy', '1', '--recipes', TINY_CONFIG, '--data-root',
            annotated_root, '--work-dir', out, '--from-scratch'])
    [r] = results
    work_dir = osp.join(out, 'resnet18_freeze2_fixed')
    _, val = read_log_entries(work_dir)
    assert [c[0] for c in r['curve']] == list(val) == [1, 2]
    # each epoch's own wall time, as logged (not a running mean of them)
    assert [c[1] for c in r['curve']] == [100.0, 300.0]
    assert [c[2] for c in r['curve']] == [e['accuracy/top1'] for e in val.values()]
    first = next(c for c in r['curve'] if c[2] >= 1)
    assert (r['epoch'], r['seconds']) == first[:2]
    assert osp.isfile(osp.join(work_dir, f'epoch_{r["epoch"]}.pth'))
    assert 0 <= r['test_acc'] <= 100
    printed = capsys.readouterr().out
    assert (f'| resnet18_freeze2_fixed.py | 0 | {r["seconds"]:.0f} | {r["epoch"]} | '
            f'{r["test_acc"]:.2f} |') in printed
    with Image.open(osp.join(out, 'time_to_accuracy.png')) as png:
        assert png.format == 'PNG' and png.width > 300
    # an unreachable target: no epoch, no test, dashes in the table
    with mock.patch.object(tta, 'train_recipe', return_value=r['curve']), \
            mock.patch.object(tta.testing, 'test') as test:
        [missed] = tta.time_to_accuracy([TINY_CONFIG], 101, annotated_root, out)
    assert missed['epoch'] is missed['test_acc'] is None and not test.called
    assert tta.summary_table([missed], 101)[2].startswith(
        '| resnet18_freeze2_fixed.py | 0 | - | - | - |')
    # several seeds: one run each, in its own folder, one row and line each
    tested = {'accuracy/top1': 50.0}
    with mock.patch.object(tta, 'train_recipe', return_value=r['curve']) as train, \
            mock.patch.object(tta.testing, 'test', return_value=tested):
        runs = tta.time_to_accuracy([TINY_CONFIG], 1, annotated_root, out,
                                    seeds=[3, 7])
    assert [c.args[1:4] for c in train.call_args_list] == [
        (osp.join(out, f'resnet18_freeze2_fixed_seed{s}'), annotated_root, s)
        for s in (3, 7)]
    assert [(x['seed'], x['test_acc']) for x in runs] == [(3, 50.0), (7, 50.0)]
    assert [row.split(' | ')[1] for row in tta.summary_table(runs, 1)[2:]] == ['3', '7']
