"""tools/deploy/benchmark_onnx.py on the tiny config: one row per backend
(PyTorch fp32, bf16 where the CPU has it, ONNX Runtime fp32 and int8, OpenVINO
fp32 and int8 where it is installed), with
latency and, given a checkpoint and data, test accuracy (no timing
thresholds: the figures depend on the machine)."""
from conftest import TINY_CONFIG, load_tool
from deploy_fixtures import tiny_checkpoint

from custom_modules.apis.deploy.onnx_classifier import openvino_installed
from custom_modules.apis.precision import cpu_supports_bf16

benchmark_main = load_tool('tools/deploy/benchmark_onnx.py').main
BACKENDS = [('PyTorch', 'fp32')] + [('PyTorch', 'bf16 autocast')] * \
    cpu_supports_bf16() + [('ONNX Runtime', 'fp32'), ('ONNX Runtime', 'int8')] + [
        ('OpenVINO', 'fp32'), ('OpenVINO', 'int8')] * openvino_installed()


def cells(lines):
    return [[c.strip() for c in line.strip('|').split('|')] for line in lines]


def test_table_times_every_backend(capsys):
    rows = benchmark_main([TINY_CONFIG, '--batch-sizes', '2', '1',
                           '--seconds', '0.05', '--threads', '1'])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith('resnet18_freeze2_fixed.py, 64 px, CPU, 1 '
                               'thread(s), random weights')
    assert cells(lines[1:2])[0] == [
        'Backend', 'Precision', 'Batch 1 (img/s)', 'Batch 2 (img/s)',
        'p50 / p99 at batch 1 (ms)', 'vs ORT fp32 at batch 2',
        'Test accuracy (%)']
    table = cells(lines[3:])
    assert [(r[0].split(' ')[0].replace('ONNX', 'ONNX Runtime'), r[1])
            for r in table] == BACKENDS
    for line, r in zip(table, rows):
        assert float(line[2]) == round(r['speed'][1], 1) and r['speed'][2] > 0
        assert 0 < r['p50'] <= r['p99']
        assert line[6] == '-' and r['accuracy'] is None
    baseline = BACKENDS.index(('ONNX Runtime', 'fp32'))
    assert table[baseline][5] == '1.00x'  # ORT fp32 is the baseline


def test_accuracy_per_backend_on_the_test_split(tmp_path, annotated_root,
                                                capsys):
    checkpoint = tiny_checkpoint(tmp_path)
    rows = benchmark_main([TINY_CONFIG, '--batch-sizes', '1', '--seconds',
                           '0.02', '--threads', '1', '--checkpoint',
                           checkpoint, '--data-root', annotated_root,
                           '--calibration-images', '20'])
    accuracy = {r['precision']: r['accuracy'] for r in rows}
    assert all(0 <= a <= 1 for a in accuracy.values())
    # the same network: fp32 in PyTorch, ONNX Runtime and OpenVINO agree
    assert all(r['accuracy'] == rows[0]['accuracy'] for r in rows
               if r['precision'] == 'fp32')
    table = cells(line for line in capsys.readouterr().out.splitlines()
                  if line.startswith(('| PyTorch', '| ONNX', '| OpenVINO')))
    assert [r[-1] for r in table] == [f'{100 * r["accuracy"]:.2f}' for r in rows]
