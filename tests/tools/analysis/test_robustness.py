"""tools/analysis/robustness.py runs end to end on the tiny config: one
model, clean plus 2 shifts x 2 severities, the table printed and written."""
import csv
import json
import math

import pytest
import torch
from conftest import TINY_CONFIG, load_tool, run_main

from custom_modules.apis.robustness import shift_metrics, with_shift

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


@pytest.fixture(scope='module')
def first_run(annotated_root, calibrated, tmp_path_factory):
    out = tmp_path_factory.mktemp('robustness')
    return out, run(annotated_root, calibrated, out)


def test_table_plot_and_csv(first_run, capsys):
    out, result = first_run
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
    for text in ('| clean | - |', '| low_res | 5 |', '| jpeg | 1 |',
                 'mean corrupted accuracy:', 'drop from clean:',
                 'temperature 1.5000, reject threshold 0.2000'):
        assert text in table
    with open(out / 'results.csv') as f:
        written = list(csv.DictReader(f))
    assert [r['shift'] for r in written] == ['clean', 'low_res', 'low_res',
                                            'jpeg', 'jpeg']
    assert float(written[2]['accuracy']) == pytest.approx(
        rows[2]['accuracy'], abs=1e-4)
    assert (out / 'accuracy_vs_severity.png').read_bytes()[:4] == b'\x89PNG'


def test_same_table_every_run_and_no_overwrite(first_run, annotated_root,
                                               calibrated, capsys):
    out, result = first_run
    code, err = run_main(robustness.main, [
        TINY_CONFIG, calibrated, '--out-dir', str(out)], capsys)
    assert code == 2 and 'exists; pass --force' in err
    table = (out / 'results.md').read_text()
    again = run(annotated_root, calibrated, out, '--force')
    assert again['rows'] == result['rows']
    assert (out / 'results.md').read_text() == table
    assert table.strip().splitlines()[-1] in capsys.readouterr().out


def test_metrics_with_and_without_calibration():
    scores = torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.45, 0.55]])
    labels = torch.tensor([0, 1, 1, 0])
    raw = shift_metrics(scores, labels)
    assert raw['accuracy'] == 50
    assert math.isnan(raw['coverage']) and math.isnan(
        raw['answered_accuracy'])
    stored = shift_metrics(scores, labels, dict(temperature=1.0,
                                                threshold=0.65))
    assert stored['coverage'] == 50 and stored['answered_accuracy'] == 100
    softened = shift_metrics(scores, labels, dict(temperature=2.0,
                                                  threshold=0.65))
    assert softened['accuracy'] == 50 and softened['coverage'] == 25


def test_shift_goes_right_after_loading():
    pipeline = [dict(type='LoadImageFromFile'), dict(type='ResizeEdge'),
                dict(type='PackInputs')]
    assert [t['type'] for t in with_shift(pipeline, dict(type='JpegShift'))
            ] == ['LoadImageFromFile', 'JpegShift', 'ResizeEdge',
                  'PackInputs']


def test_bad_arguments_are_one_line(tiny_checkpoint, tmp_path, capsys):
    code, err = run_main(robustness.main, [
        TINY_CONFIG, tiny_checkpoint, '--severities', '0', '6',
        '--out-dir', str(tmp_path)], capsys)
    assert code == 2 and 'each 1 to 5' in err
    code, err = run_main(robustness.main, [
        TINY_CONFIG, str(tmp_path / 'none.pth')], capsys)
    assert code == 2 and 'does not exist' in err
