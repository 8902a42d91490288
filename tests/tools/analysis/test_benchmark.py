"""tools/analysis/benchmark.py --smoke: the table is produced, every part
measured (no timing thresholds: the figures depend on the machine)."""
import pytest
from conftest import load_tool, run_main

from custom_modules.apis.benchmark import timing, torch_speed

benchmark_main = load_tool('tools/analysis/benchmark.py').main


def cells(line):
    return [c.strip() for c in line.strip('|').split('|')]


def test_smoke_benchmark_prints_and_writes_one_table(tmp_path, capsys):
    out = tmp_path / 'bench.md'
    table = benchmark_main(['--smoke', '--out', str(out)])
    assert out.read_text() == table
    printed = capsys.readouterr().out
    for line in ('- CPU: ', '- GPU: ', '- versions: Python', 'torch',
                 'mmengine', 'mmpretrain', '- device: cpu', 'batch 4',
                 'resolution 32 px'):
        assert line in table
    rows = [cells(line) for line in table.splitlines()
            if line.startswith('| ') and not line.startswith('| Measurement')]
    assert all(len(r) == 9 for r in rows)
    kinds = {r[0] for r in rows}
    for kind in ('bare training step', 'ours: train.py Runner, JPEGs',
                 'bare eval: model(x)', 'ours: test.py loop',
                 'ours: infer.py', 'bare step, frozen_stages=2',
                 'bare step, batch size'):
        assert kind in kinds
        assert kind in printed
    # --smoke caps the epochs at 16 training images: 25/50/100 % of them,
    # each one real epoch, the ratio relative to the largest
    epochs = {r[0]: r for r in rows if r[0].startswith('ours: epoch, ')}
    assert sorted(epochs) == ['ours: epoch, 100% (16 images)',
                              'ours: epoch, 25% (4 images)',
                              'ours: epoch, 50% (8 images)']
    assert float(epochs['ours: epoch, 100% (16 images)'][6]) == 1
    for r in epochs.values():
        images = int(r[0].split('(')[1].split()[0])
        steps = int(r[8].split(' steps')[0].split()[-1])
        assert steps == images // 4  # whole batches of 4, one epoch
        assert float(r[3]) > 0 and float(r[6]) > 0
        assert 'first batch after' in r[8] and 'at this speed' in r[8]
    assert '- epoch rows: one real epoch' in table
    assert '(--epoch-max-images)' in table
    # eval: medians over several batches, with their spread
    for r in rows:
        if r[0] in ('bare eval: model(x)', 'ours: test.py loop'):
            assert r[8].startswith('median of 2 batches, p10-p90 ')
    ours = [r for r in rows if r[0] == 'ours: train.py Runner, JPEGs']
    assert {r[1] for r in ours} >= {'fp32'}
    for r in ours:  # speed, step, data share, ratio and memory measured
        assert float(r[3]) > 0 and float(r[4]) > 0
        assert 0 <= float(r[5]) <= 100
        assert float(r[6]) > 0 and float(r[7]) > 0


def test_epoch_sizes_are_real_fractions_in_whole_batches():
    sizes = torch_speed.epoch_sizes
    assert sizes(2274, [0.25, 0.5, 1], None, 8) == [568, 1136, 2272]
    assert sizes(2274, [0.25, 0.5, 1], 400, 8) == [96, 200, 400]
    assert sizes(2274, [0.25, 1], 5000, 8) == [568, 2272]  # cap above all
    assert sizes(20, [0.1], None, 8) == [8]  # at least one batch


def test_spread_is_median_and_deciles():
    median, note = timing.spread([0.1, 0.2, 0.3, 0.4, 10.0])
    assert median == 0.3  # the one slowed-down batch does not move it
    assert note.startswith('median of 5 batches, p10-p90 140-')
    assert timing.spread([0.5]) == (0.5, 'median of 1 batches, '
                                       'p10-p90 500-500 ms')


@pytest.mark.parametrize('argv, message', [
    (['--smoke', '--out', 'table.txt'], 'use a .md file name'),
    (['--iters', '0'], '--iters must be >= 1'),
    (['--eval-iters', '0'], '--eval-iters must be >= 1'),
    (['--epoch-max-images', '0'], '--epoch-max-images must be >= 1'),
    (['--epoch-fractions', '0.5,1.5'], 'give shares of the training split'),
    (['configs/nope.py'], 'config configs/nope.py does not exist'),
])
def test_bad_options_are_refused_before_measuring(argv, message, capsys):
    code, err = run_main(benchmark_main, argv, capsys)
    assert code == 2 and message in err
