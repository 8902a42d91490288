"""tools/analysis/robustness.py runs end to end on the tiny config: one
model, clean plus 2 shifts x 2 severities, the table printed and written;
its cached, in-process passes give the scores of the plain test pipeline."""
import csv
import json
import math

import pytest
import torch
from conftest import TINY_CONFIG, load_tool, run_main
from mmengine.dataset import Compose, pseudo_collate
from mmpretrain.registry import DATASETS, TRANSFORMS

from custom_modules.apis.config import load_config, set_data_root
from custom_modules.apis.model import load_model
from custom_modules.apis.robustness import (
    REJECT_SCORES,
    Forward,
    Passes,
    predict,
    shift_metrics,
    with_shift,
)
from custom_modules.apis.testing import resolve_test_split
from custom_modules.datasets.transforms import shift_transform

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
        for name in REJECT_SCORES:  # each score has a threshold
            assert 0 <= r[f'coverage_{name}'] <= 100
    assert result['thresholds']['max_softmax'] == 0.2  # the stored one
    non_flower = result['non_flower']
    assert non_flower['photos'] == 17 and math.isnan(non_flower['accuracy'])
    assert 0 <= non_flower['coverage_energy'] <= 100
    mean = sum(r['accuracy'] for r in rows[1:]) / 4
    assert result['mean_corrupted_accuracy'] == pytest.approx(mean)
    assert result['drop'] == pytest.approx(rows[0]['accuracy'] - mean)
    table = (out / 'results.md').read_text()
    for text in ('| clean | - |', '| low_res | 5 |', '| jpeg | 1 |',
                 'mean corrupted accuracy:', 'drop from clean:',
                 'temperature 1.5000', 'max_softmax 0.2000',
                 'non-flower photos (skimage.data, 17) rejected'):
        assert text in table
    with open(out / 'results.csv') as f:
        written = list(csv.DictReader(f))
    assert [r['shift'] for r in written] == ['clean', 'low_res', 'low_res',
                                            'jpeg', 'jpeg', 'non_flower']
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
    assert math.isnan(raw['coverage_max_softmax']) and math.isnan(
        raw['answered_max_softmax'])
    stored = shift_metrics(scores, labels, dict(temperature=1.0,
                                                threshold=0.65))
    assert stored['coverage_max_softmax'] == 50
    assert stored['answered_max_softmax'] == 100
    softened = shift_metrics(scores, labels, dict(temperature=2.0,
                                                  threshold=0.65))
    assert softened['accuracy'] == 50
    assert softened['coverage_max_softmax'] == 25
    # another score answers the images scoring at least its threshold
    energy = shift_metrics(scores, labels, reject=dict(
        energy=[3, 2, 1, 0]), thresholds=dict(energy=1.5))
    assert energy['coverage_energy'] == 50
    assert energy['answered_energy'] == 50
    # an energy calibration keeps its stored threshold for energy
    kept = shift_metrics(scores, labels, dict(
        temperature=1.0, threshold=1.5, score='energy'), reject=dict(
        energy=[3, 2, 1, 0]), thresholds=dict(energy=0.5))
    assert kept['coverage_energy'] == 50


@pytest.mark.parametrize('backend', ['pytorch', 'onnxruntime'])
def test_same_scores_as_the_plain_test_pipeline(annotated_root,
                                                tiny_checkpoint, backend):
    """Decoding once and predicting in-process changes no score (ONNX
    Runtime: none beyond float rounding): the clean and a shifted pass
    equal the uncached model.test_step path."""
    cfg = load_config(TINY_CONFIG)
    set_data_root(cfg, annotated_root)
    resolve_test_split(cfg)  # val.txt: the tiny split has no test.txt
    model = load_model(cfg, tiny_checkpoint, device='cpu')
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    pipeline = cfg.test_dataloader.dataset.pipeline
    passes, forward = Passes(pipeline), Forward(model, backend)
    for shift in (None, shift_transform('noise', 3), None):
        logits, features, labels = predict(forward, dataset, passes(shift),
                                           3)  # a last batch of 1
        steps = with_shift(pipeline, shift) if shift else pipeline
        dataset.pipeline = Compose([TRANSFORMS.build(t) for t in steps])
        with torch.no_grad():
            old = [s for i in range(0, len(dataset), 4)
                   for s in model.test_step(pseudo_collate(
                       [dataset[j] for j in range(
                           i, min(i + 4, len(dataset)))]))]
        old_scores = torch.stack([s.pred_score for s in old])
        if backend == 'pytorch':
            assert torch.equal(logits.softmax(1), old_scores)
        else:
            assert torch.allclose(logits.softmax(1), old_scores, atol=1e-6)
        assert labels.tolist() == [int(s.gt_label) for s in old]
        assert features.shape == (len(dataset), 128)
    assert len(passes.load.cache) == len(dataset)  # decoded once


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


def test_low_res_policy_and_no_fit(annotated_root, calibrated, tmp_path):
    """--low-res-policy swaps LowResPolicy in (the 40 px synthetic photos
    are all below the 64 px crop); --fit-images 0 leaves max-softmax."""
    result = robustness.main([
        TINY_CONFIG, calibrated, '--data-root', annotated_root, '--shifts',
        'squash', '--severities', '2', '--out-dir', str(tmp_path),
        '--low-res-policy', '--fit-images', '0', '--backend', 'pytorch'])
    assert 'low-resolution policy' in (tmp_path / 'results.md').read_text()
    assert result['thresholds'] == {'max_softmax': 0.2}
    assert 'reject thresholds: max_softmax 0.2000' in (
        tmp_path / 'results.md').read_text()
    for row in result['rows']:
        assert 0 <= row['coverage_max_softmax'] <= 100
        assert math.isnan(row['coverage_energy'])
