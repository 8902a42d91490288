"""tools/deploy/benchmark_onnx.py on the tiny config: rows in the columns of
docs/benchmark_cpu.md (no timing thresholds: the figures depend on the
machine)."""
from conftest import TINY_CONFIG, load_tool

from custom_modules.apis.benchmark.timing import HEADER, RULE

benchmark_main = load_tool('tools/deploy/benchmark_onnx.py').main


def test_rows_paste_into_benchmark_cpu_md(capsys):
    rows = benchmark_main([TINY_CONFIG, '--batch-sizes', '1', '2',
                           '--seconds', '0.05', '--threads', '1'])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith('resnet18_freeze2_fixed.py, 64 px, CPU, 1 '
                               'thread(s), random weights')
    assert lines[1:3] == [HEADER, RULE]
    table = [[c.strip() for c in line.strip('|').split('|')]
             for line in lines[3:]]
    assert len(table) == 4 and all(len(r) == 9 for r in table)
    for (eager, onnx), r in zip(zip(table[::2], table[1::2]), rows):
        assert eager[0].startswith('inference: PyTorch') and \
            onnx[0].startswith('inference: ONNX Runtime')
        assert eager[1:3] == onnx[1:3] == ['fp32', str(r['batch'])]
        assert float(eager[3]) == round(r['torch'], 1)
        assert float(onnx[3]) == round(r['onnxruntime'], 1)
        assert eager[6] == '1.00'
        assert onnx[6] == f'{r["onnxruntime"] / r["torch"]:.2f}'
