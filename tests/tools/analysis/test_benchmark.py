"""tools/analysis/benchmark.py --smoke: the table is produced, every part
measured (no timing thresholds: the figures depend on the machine)."""
import pytest
from conftest import run_main

from custom_modules.apis.analysis import benchmark


def cells(line):
    return [c.strip() for c in line.strip('|').split('|')]


def test_smoke_benchmark_prints_and_writes_one_table(tmp_path, capsys):
    out = tmp_path / 'bench.md'
    table = benchmark.main(['--smoke', '--out', str(out)])
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
    assert sum(r[0].startswith('ours: epoch of') for r in rows) == 3
    ours = [r for r in rows if r[0] == 'ours: train.py Runner, JPEGs']
    assert {r[1] for r in ours} >= {'fp32'}
    for r in ours:  # speed, step, data share, ratio and memory measured
        assert float(r[3]) > 0 and float(r[4]) > 0
        assert 0 <= float(r[5]) <= 100
        assert float(r[6]) > 0 and float(r[7]) > 0


@pytest.mark.parametrize('argv, message', [
    (['--smoke', '--out', 'table.txt'], 'use a .md file name'),
    (['--iters', '0'], '--iters must be >= 1'),
    (['configs/nope.py'], 'config configs/nope.py does not exist'),
])
def test_bad_options_are_refused_before_measuring(argv, message, capsys):
    code, err = run_main(benchmark.main, argv, capsys)
    assert code == 2 and message in err
