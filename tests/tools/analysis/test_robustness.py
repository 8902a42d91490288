"""tools/analysis/robustness.py runs end to end on the tiny config: one
model, clean plus 2 shifts x 2 severities, the table printed and written."""
import csv
import json

import pytest
from conftest import TINY_CONFIG, load_tool, run_main

robustness = load_tool('tools/analysis/robustness.py')


def run(annotated_root, checkpoint, out_dir, *extra):
    return robustness.main([
        TINY_CONFIG, checkpoint, '--data-root', annotated_root,
        '--shifts', 'low_res', 'jpeg', '--severities', '1', '5',
        '--out-dir', str(out_dir), '--cfg-options',
        'test_dataloader.num_workers=0', *extra])


@pytest.fixture(scope='module')
def calibrated(tiny_checkpoint, tmp_path_factory):
    """The tiny checkpoint with a stored temperature and reject threshold."""
    path = str(tmp_path_factory.mktemp('calibrated') / 'model.pth')
    with open(tiny_checkpoint, 'rb') as src, open(path, 'wb') as dst:
        dst.write(src.read())
    with open(path + '.calibration.json', 'w') as f:
        json.dump(dict(temperature=1.5, threshold=0.2), f)
    return path


def test_table_plot_and_csv(annotated_root, calibrated, tmp_path, capsys):
    out = tmp_path / 'rob'
    result = run(annotated_root, calibrated, out)
    printed = capsys.readouterr().out
    rows = result['rows']
    assert [(r['shift'], r['severity']) for r in rows] == [
        ('clean', None), ('low_res', 1), ('low_res', 5), ('jpeg', 1),
        ('jpeg', 5)]
    for r in rows:
        assert 0 <= r['accuracy'] <= 100 and 0 <= r['ece'] <= 100
        assert 0 <= r['coverage'] <= 100  # the stored threshold is used
    mean = sum(r['accuracy'] for r in rows[1:]) / 4
    assert result['mean_corrupted_accuracy'] == pytest.approx(mean)
    assert result['drop'] == pytest.approx(rows[0]['accuracy'] - mean)
    table = (out / 'results.md').read_text()
    assert table.splitlines()[-1] in printed
    for text in ('| clean | - |', '| low_res | 5 |', '| jpeg | 1 |',
                 'mean corrupted accuracy:', 'drop from clean:',
                 'temperature 1.5000, reject threshold 0.2000'):
        assert text in table and text in printed
    with open(out / 'results.csv') as f:
        written = list(csv.DictReader(f))
    assert [r['shift'] for r in written] == ['clean', 'low_res', 'low_res',
                                            'jpeg', 'jpeg']
    assert (out / 'accuracy_vs_severity.png').read_bytes()[:4] == b'\x89PNG'


def test_same_table_every_run_and_no_overwrite(annotated_root, calibrated,
                                               tmp_path, capsys):
    first = run(annotated_root, calibrated, tmp_path / 'a')['rows']
    code, err = run_main(robustness.main, [
        TINY_CONFIG, calibrated, '--out-dir', str(tmp_path / 'a')], capsys)
    assert code == 2 and 'exists; pass --force' in err
    again = run(annotated_root, calibrated, tmp_path / 'a', '--force')
    assert again['rows'] == first


def test_without_calibration_no_reject_columns(annotated_root,
                                               tiny_checkpoint, tmp_path):
    result = run(annotated_root, tiny_checkpoint, tmp_path / 'raw')
    table = (tmp_path / 'raw' / 'results.md').read_text()
    assert 'calibration: none' in table
    assert all(r['coverage'] != r['coverage'] for r in result['rows'])  # NaN


def test_bad_severity_is_one_line(tiny_checkpoint, tmp_path, capsys):
    code, err = run_main(robustness.main, [
        TINY_CONFIG, tiny_checkpoint, '--severities', '0', '6',
        '--out-dir', str(tmp_path)], capsys)
    assert code == 2 and 'each 1 to 5' in err
