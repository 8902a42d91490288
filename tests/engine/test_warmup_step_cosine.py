"""WarmupStepCosineLR against the closed form in docs/scheduler.md, and
against the equivalent chain of mmengine's stock schedulers."""
import math

import pytest
import torch
from mmpretrain.registry import PARAM_SCHEDULERS

from custom_modules.engine.schedulers import WarmupStepCosineLR

BASE, START, W, S, STEP, GAMMA, ETA_MIN, T = 0.01, 0.1, 10, 20, 5, 0.5, 1e-5, 40


def expected(e):
    """The README's formula, written independently of the scheduler."""
    if e < W:
        return BASE * (START + (1 - START) * e / W)
    if e < S:
        return BASE * GAMMA**math.floor((e - W) / STEP)
    plateau = BASE * GAMMA**1  # one decay (at epoch 15) before epoch 20
    return ETA_MIN + (plateau - ETA_MIN) * (1 + math.cos(math.pi * (e - S) /
                                                         (T - S))) / 2


def make_optimizer(lr=BASE):
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def build(optimizer, epoch_length=None):
    cfg = dict(type='WarmupStepCosineLR', optimizer=optimizer,
               start_factor=START, warmup_end=W, decay_end=S, step_size=STEP,
               gamma=GAMMA, eta_min=ETA_MIN, end=T)
    if epoch_length:
        cfg.update(convert_to_iter_based=True, epoch_length=epoch_length)
    return PARAM_SCHEDULERS.build(cfg)


def run(scheduler, optimizer, steps):
    values = []
    for _ in range(steps):
        values.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        scheduler.step()
    return values


def test_registered_as_lr_scheduler():
    optimizer = make_optimizer()
    assert isinstance(build(optimizer), WarmupStepCosineLR)


def test_epoch_based_matches_closed_form():
    optimizer = make_optimizer()
    values = run(build(optimizer), optimizer, T)
    assert values == pytest.approx([expected(e) for e in range(T)], rel=1e-9)
    # Phase landmarks: start, the base value at W, one decay at W + STEP.
    assert values[0] == pytest.approx(BASE * START)
    assert values[W] == pytest.approx(BASE)
    assert values[W + STEP] == pytest.approx(BASE * GAMMA)
    assert values[S] == pytest.approx(BASE * GAMMA)  # cosine starts there
    assert all(v > 0 for v in values)
    assert values == sorted(values[:W]) + values[W:]  # warm-up increases


def test_iteration_based_matches_closed_form_at_fractional_epochs():
    length = 7
    optimizer = make_optimizer()
    values = run(build(optimizer, epoch_length=length), optimizer,
                 T * length)
    assert values == pytest.approx(
        [expected(i / length) for i in range(T * length)], rel=1e-9)


@pytest.mark.parametrize('epoch_length', [None, 7])
def test_equals_the_chain_of_mmengine_stock_schedulers(epoch_length):
    """LinearLR, then StepLR, then CosineAnnealingLR, each starting from the
    value the previous one left, draw the same curve (no jump at W or S):
    one registered scheduler is about one named recipe and an exact resume.
    The one difference: LinearLR ramps over ``end - begin - 1`` steps, so it
    reaches the base value one step before W; ours reaches it at W."""
    iters = dict(convert_to_iter_based=True, epoch_length=epoch_length) \
        if epoch_length else {}
    optimizer = make_optimizer()
    chain = [PARAM_SCHEDULERS.build(dict(cfg, optimizer=optimizer, **iters))
             for cfg in (
                 dict(type='LinearLR', start_factor=START, begin=0, end=W),
                 dict(type='StepLR', step_size=STEP, gamma=GAMMA, begin=W,
                      end=S),
                 dict(type='CosineAnnealingLR', eta_min=ETA_MIN, begin=S,
                      end=T))]
    steps = T * (epoch_length or 1)
    stock = []
    for _ in range(steps):
        stock.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        for scheduler in chain:
            scheduler.step()
    optimizer = make_optimizer()
    ours = run(build(optimizer, epoch_length), optimizer, steps)
    warmup = W * (epoch_length or 1)
    assert ours[warmup:] == pytest.approx(stock[warmup:], rel=1e-6)
    assert stock[:warmup] == pytest.approx(
        [BASE * (START + (1 - START) * min(t / (warmup - 1), 1))
         for t in range(warmup)], rel=1e-9)


@pytest.mark.parametrize('boundary', [W, S])
def test_continuous_at_phase_boundaries(boundary):
    """Per-iteration values approach the same value from both sides."""
    length = 1000
    optimizer = make_optimizer()
    scheduler = build(optimizer, epoch_length=length)
    at = boundary * length
    run(scheduler, optimizer, at - 1)
    before = optimizer.param_groups[0]['lr']
    optimizer.step()
    scheduler.step()
    after = optimizer.param_groups[0]['lr']
    assert after == pytest.approx(before, rel=2e-3)


def test_anneals_to_eta_min_at_end_and_never_below():
    scheduler = build(make_optimizer())
    assert scheduler.value_at(BASE, T) == pytest.approx(ETA_MIN)
    assert min(scheduler.value_at(BASE, t / 10) for t in range(T * 10 + 1)) \
        >= ETA_MIN


def test_resume_gives_the_values_of_an_uninterrupted_run():
    length = 3
    optimizer = make_optimizer()
    full = run(build(optimizer, length), optimizer, T * length)

    optimizer = make_optimizer()
    scheduler = build(optimizer, length)
    first = run(scheduler, optimizer, 50)
    state = scheduler.state_dict()
    optim_state = optimizer.state_dict()
    # A new process: fresh optimizer and scheduler, then the saved states.
    optimizer = make_optimizer()
    optimizer.load_state_dict(optim_state)
    scheduler = build(optimizer, length)
    scheduler.load_state_dict(state)
    rest = run(scheduler, optimizer, T * length - 50)
    assert first + rest == pytest.approx(full, rel=1e-12)


@pytest.mark.parametrize('kwargs, message', [
    (dict(warmup_end=30, decay_end=20), 'warmup_end'),
    (dict(decay_end=50), 'decay_end'),
    (dict(gamma=0), 'gamma'),
    (dict(step_size=0), 'step_size'),
    (dict(eta_min=-1.0), 'eta_min'),
    (dict(eta_min=1.0), 'eta_min'),
])
def test_bad_arguments_are_named(kwargs, message):
    cfg = dict(type='WarmupStepCosineLR', optimizer=make_optimizer(), end=T)
    cfg.update(kwargs)
    with pytest.raises(ValueError, match=message):
        PARAM_SCHEDULERS.build(cfg)


def test_infinite_end_is_refused():
    with pytest.raises(ValueError, match='finite `end`'):
        PARAM_SCHEDULERS.build(
            dict(type='WarmupStepCosineLR', optimizer=make_optimizer()))
