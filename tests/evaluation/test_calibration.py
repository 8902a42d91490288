"""Calibration arithmetic on hand-computed cases, and the registered metric."""
import math

import numpy as np
import pytest
import torch

from custom_modules.evaluation.calibration import (
    apply_temperature,
    brier_score,
    energy_score,
    expected_calibration_error,
    fit_calibration,
    fit_mahalanobis,
    fit_temperature,
    mahalanobis_score,
    negative_log_likelihood,
    reject_score,
    risk_coverage,
    selective_accuracy,
    threshold_for_coverage,
)
from custom_modules.evaluation.metrics import CalibrationMetric


def confident(conf, correct, total, num_classes=3):
    """``total`` images predicting class 0 with top score ``conf``; the
    first ``correct`` of them are labelled 0, the rest 1."""
    rest = (1 - conf) / (num_classes - 1)
    probs = torch.full((total, num_classes), rest, dtype=torch.float64)
    probs[:, 0] = conf
    labels = torch.tensor([0] * correct + [1] * (total - correct))
    return probs, labels


def joined(*parts):
    return (torch.cat([p for p, _ in parts]), torch.cat([y for _, y in parts]))


def test_ece_is_zero_when_confidence_matches_accuracy():
    probs, labels = joined(confident(0.8, 8, 10), confident(0.6, 6, 10))
    assert expected_calibration_error(probs, labels) == pytest.approx(0)


def test_ece_of_an_over_confident_model():
    # 4 images at 0.95 with 2 right (gap 0.45), 6 at 0.55 with 3 right
    # (gap 0.05): 0.4 * 0.45 + 0.6 * 0.05 = 0.21.
    probs, labels = joined(confident(0.95, 2, 4), confident(0.55, 3, 6))
    assert expected_calibration_error(probs, labels) == pytest.approx(0.21)
    # One bin only: confidence 0.9, half right.
    probs, labels = confident(0.9, 5, 10)
    assert expected_calibration_error(probs, labels) == pytest.approx(0.4)


def test_nll_and_brier_by_hand():
    probs = torch.tensor([[0.5, 0.25, 0.25]])
    assert negative_log_likelihood(probs, [0]) == pytest.approx(math.log(2))
    assert brier_score(probs, [0]) == pytest.approx(0.25 + 2 * 0.0625)
    assert brier_score(torch.tensor([[0., 1., 0.]]), [0]) == pytest.approx(2)


def over_confident_set(n=600, num_classes=5, sharpen=4.0, seed=0):
    """Labels drawn from softmax(z) (calibrated), scores softmax(4 z)."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, num_classes, generator=g, dtype=torch.float64) * 1.5
    labels = torch.multinomial(torch.softmax(z, 1), 1, generator=g).view(-1)
    return torch.softmax(sharpen * z, 1), labels


def test_temperature_scaling_lowers_nll_and_keeps_the_argmax():
    probs, labels = over_confident_set()
    temperature = fit_temperature(probs, labels)
    assert 3 < temperature < 5  # undoes the sharpening by 4
    scaled = apply_temperature(probs, temperature)
    assert negative_log_likelihood(scaled, labels) < \
        0.8 * negative_log_likelihood(probs, labels)
    assert expected_calibration_error(scaled, labels) < \
        expected_calibration_error(probs, labels) / 2
    assert (scaled.argmax(1) == probs.argmax(1).numpy()).all()


@pytest.mark.parametrize('coverage', [0.95, 0.8, 0.5, 1.0])
def test_threshold_answers_the_requested_share(coverage):
    probs, labels = over_confident_set(n=400, sharpen=1.0)
    threshold = threshold_for_coverage(probs.max(1).values, coverage)
    answered, accuracy = selective_accuracy(probs, labels, threshold)
    assert answered == pytest.approx(coverage)
    # Answering only the confident ones is at least as accurate as all.
    overall = float((probs.argmax(1) == labels).double().mean())
    assert accuracy >= overall


def test_risk_coverage_ends_at_the_overall_error():
    probs, labels = joined(confident(0.9, 1, 1), confident(0.6, 0, 1))
    coverage, risk = risk_coverage(probs, labels)
    assert coverage.tolist() == [0.5, 1.0]
    assert risk.tolist() == [0.0, 0.5]


def test_metric_logs_figures_scaled_figures_and_a_diagram(tmp_path):
    probs, labels = over_confident_set(n=100)
    metric = CalibrationMetric(temperature=4.0, threshold=0.5,
                               out_dir=str(tmp_path), tag='unit')
    metric.process(None, [dict(pred_score=p.float(), gt_label=torch.tensor(
        [int(y)])) for p, y in zip(probs, labels)])
    result = metric.evaluate(len(labels))
    assert result['calibration/ece'] == pytest.approx(
        100 * expected_calibration_error(probs.float(), labels), abs=1e-4)
    assert result['calibration/nll_scaled'] < result['calibration/nll']
    assert 0 < result['calibration/coverage'] <= 100
    assert (tmp_path / 'reliability_unit.png').stat().st_size > 1000
    assert (tmp_path / 'risk_coverage_unit.png').stat().st_size > 1000


def test_energy_is_temperature_times_logsumexp_and_sees_the_scale():
    from scipy.special import logsumexp
    logits = np.array([[4.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    assert np.allclose(energy_score(logits), logsumexp(logits, axis=1))
    assert np.allclose(energy_score(logits, 2.0),
                       2 * logsumexp(logits / 2, axis=1))
    # same softmax, larger logits: more familiar (max-softmax can't tell)
    assert energy_score(logits + 5)[0] > energy_score(logits)[0]


def test_mahalanobis_prefers_features_near_a_class_mean():
    rng = np.random.default_rng(0)
    means = np.array([[0.0, 0.0, 0.0], [5.0, 5.0, 0.0]])
    labels = np.repeat([0, 1], 200)
    features = means[labels] + rng.normal(0, [1, 1, 0.1], (400, 3))
    fit = fit_mahalanobis(features, labels)
    assert np.allclose(fit['means'], means, atol=0.3)
    near, far_along_thin_axis, far = mahalanobis_score(
        np.array([[5.0, 5.0, 0.0], [0.0, 0.0, 1.0], [0.0, 3.0, 0.0]]), fit)
    assert near > far > far_along_thin_axis  # 1 along sd 0.1 is 10 sds
    assert near == pytest.approx(0, abs=0.1)


def test_energy_calibration_fits_the_threshold_on_the_energy():
    """The default reject score is energy: its threshold answers the
    coverage of val by energy, not by the top probability; max_softmax,
    still selectable, fits on the top scaled probability."""
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (200, 5)) + rng.normal(0, 4, (200, 1))
    labels = logits.argmax(1) * (rng.random(200) > 0.2)
    probs = torch.softmax(torch.from_numpy(logits), 1).numpy()
    fitted = fit_calibration(probs, labels, 0.8, logits)
    assert fitted['score'] == 'energy'
    energy = energy_score(logits, fitted['temperature'])
    assert fitted['threshold'] == threshold_for_coverage(energy, 0.8)
    assert fitted['val']['coverage'] == pytest.approx(80)
    # The per-row offset that softmax ignores changes who is answered.
    top = apply_temperature(probs, fitted['temperature']).max(1)
    assert (top >= threshold_for_coverage(top, 0.8)).tolist() != (
        energy >= fitted['threshold']).tolist()
    plain = fit_calibration(probs, labels, 0.8, score='max_softmax')
    assert plain['score'] == 'max_softmax'
    assert plain['threshold'] == pytest.approx(threshold_for_coverage(top, 0.8))
    assert np.allclose(reject_score(logits, 'max_softmax', 2.0),
                       apply_temperature(probs, 2.0).max(1))
    with pytest.raises(ValueError, match='needs the logits'):
        fit_calibration(probs, labels, 0.8)


def test_metric_applies_an_energy_threshold_to_the_logits(tmp_path):
    logits = torch.tensor([[9.0, 0.0], [1.0, 0.0], [6.0, 5.0]])
    samples = [dict(pred_score=row.softmax(0), logits=row,
                    gt_label=torch.tensor([0])) for row in logits]
    metric = CalibrationMetric(threshold=5.5, score='energy', plot=False)
    metric.process(None, samples)
    # energies 9.0001, 1.31, 6.31: two of three answered
    assert metric.evaluate(3)['calibration/coverage'] == pytest.approx(
        200 / 3)
    metric = CalibrationMetric(threshold=5.5, score='energy', plot=False)
    metric.process(None, [{k: v for k, v in s.items() if k != 'logits'}
                          for s in samples])
    with pytest.raises(ValueError, match='KeepLogitsHook'):
        metric.evaluate(3)
