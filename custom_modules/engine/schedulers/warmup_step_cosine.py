"""Warm-up, step decay, then cosine annealing, as one closed-form scheduler.

Why one scheduler rather than mmengine's LinearLR + StepLR +
CosineAnnealingLR chain, the formula and its properties: docs/scheduler.md.
"""
import math

from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, StepParamScheduler
from mmpretrain.registry import PARAM_SCHEDULERS


@PARAM_SCHEDULERS.register_module()
class WarmupStepCosineParamScheduler(StepParamScheduler):
    """Linear warm-up, step decay, then cosine annealing from the step
    phase's last value; phase boundaries are absolute epochs (may coincide).

    Args:
        optimizer (OptimWrapper or Optimizer): Wrapped optimizer.
        param_name (str): Name of the scheduled parameter, e.g. ``'lr'``.
        warmup_end (float): Epoch at which warm-up reaches the base value.
        decay_end (float): Epoch at which step decay hands over to cosine.
        step_size (float): Epochs between two decays in the step phase.
        gamma (float): Multiplicative decay of each step, in (0, 1].
        start_factor (float): Fraction of the base value warm-up starts at.
        eta_min (float): Value the cosine phase anneals to at ``end``.
        begin, end, last_step, by_epoch, verbose: As in mmengine's
            schedulers; ``end`` must be finite (the Runner's default).
    """

    def __init__(self,
                 optimizer,
                 param_name: str,
                 warmup_end: float = 10,
                 decay_end: float = 20,
                 step_size: float = 5,
                 gamma: float = 0.5,
                 start_factor: float = 0.1,
                 eta_min: float = 0.0,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = True,
                 verbose: bool = False):
        if end == INF:
            raise ValueError(
                f'{type(self).__name__} needs a finite `end` to anneal to; '
                'leave `end` out of the config so the Runner sets it to '
                '`train_cfg.max_epochs`, or set it explicitly.')
        if not begin <= warmup_end <= decay_end <= end:
            raise ValueError(
                'WarmupStepCosine phases must satisfy begin <= warmup_end <= '
                f'decay_end <= end, got begin={begin}, '
                f'warmup_end={warmup_end}, decay_end={decay_end}, end={end}. '
                'Shorter runs need shorter phases, e.g. --cfg-options '
                'param_scheduler.warmup_end=1 param_scheduler.decay_end=2')
        if step_size <= 0:
            raise ValueError(f'step_size must be > 0, got {step_size}')
        if not 0 < gamma <= 1:
            raise ValueError(f'gamma must be in (0, 1], got {gamma}')
        if not 0 <= start_factor <= 1:
            raise ValueError(
                f'start_factor must be in [0, 1], got {start_factor}')
        if eta_min < 0:
            raise ValueError(f'eta_min must be >= 0, got {eta_min}')
        self.warmup_end = warmup_end
        self.decay_end = decay_end
        self.start_factor = start_factor
        self.eta_min = eta_min
        span = decay_end - warmup_end
        self.num_decays = max(math.ceil(span / step_size) - 1, 0)
        super().__init__(optimizer, param_name, step_size, gamma, begin, end,
                         last_step, by_epoch, verbose)
        too_low = [v for v in self.base_values
                   if v * gamma**self.num_decays < eta_min]
        if too_low:
            raise ValueError(
                f'eta_min={eta_min} is above the value the cosine phase '
                f'starts from ({too_low[0] * gamma**self.num_decays}); '
                'lower eta_min or raise the base learning rate.')

    @classmethod
    def build_iter_from_epoch(cls, *args, warmup_end=10, decay_end=20,
                              step_size=5, epoch_length=None, **kwargs):
        """Also convert the phase boundaries to iterations."""
        length = epoch_length or 0  # the parent refuses a missing length
        return super().build_iter_from_epoch(
            *args, warmup_end=warmup_end * length,
            decay_end=decay_end * length, step_size=step_size,
            epoch_length=epoch_length, **kwargs)

    def value_at(self, base_value: float, t: float) -> float:
        """The closed-form value at absolute step ``t``."""
        if t < self.warmup_end:
            progress = (t - self.begin) / (self.warmup_end - self.begin)
            return base_value * (self.start_factor +
                                 (1 - self.start_factor) * progress)
        if t < self.decay_end:
            decays = math.floor((t - self.warmup_end) / self.step_size)
            return base_value * self.gamma**decays
        start = base_value * self.gamma**self.num_decays
        if self.end == self.decay_end:
            return start
        progress = min((t - self.decay_end) / (self.end - self.decay_end), 1)
        return self.eta_min + (start - self.eta_min) * (
            1 + math.cos(math.pi * progress)) / 2

    def _get_value(self):
        t = self.begin + self.last_step
        return [self.value_at(base, t) for base in self.base_values]

    def load_state_dict(self, state_dict: dict):
        """Restore the state and re-apply its step's value (whatever order
        the states load in)."""
        super().load_state_dict(state_dict)
        if self.begin <= self._global_step < self.end:
            self._last_value = self._get_value()
            for group, value in zip(self.optimizer.param_groups,
                                    self._last_value):
                group[self.param_name] = value


@PARAM_SCHEDULERS.register_module()
class WarmupStepCosineLR(LRSchedulerMixin, WarmupStepCosineParamScheduler):
    """:class:`WarmupStepCosineParamScheduler` for the learning rate.

    Args:
        optimizer (OptimWrapper or Optimizer): Wrapped optimizer.
        **kwargs: As :class:`WarmupStepCosineParamScheduler`, without
            ``param_name``.
    """
