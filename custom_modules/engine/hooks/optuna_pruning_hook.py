"""Per-epoch validation accuracy to an Optuna trial (``tools/tune.py``)."""
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class OptunaPruningHook(Hook):
    """Report a validation metric to an Optuna trial (found again from the
    study's storage) and raise ``optuna.TrialPruned`` when its pruner says so.

    Args:
        storage (str): The study's storage URL, e.g.
            ``sqlite:///work_dirs/tune/study.db``.
        study_name (str): The study's name in that storage.
        trial_id (int): The trial's id in the storage (``trial._trial_id``).
        pruner (dict): ``type`` (a class of ``optuna.pruners``) and its
            arguments. Default: ``dict(type='MedianPruner')``.
        metric (str): The validation metric reported.
    """

    priority = 'LOW'  # after the checkpoint hook has saved this epoch

    def __init__(self, storage, study_name, trial_id, pruner=None,
                 metric='accuracy/top1'):
        self.storage, self.study_name = storage, study_name
        self.trial_id, self.metric = trial_id, metric
        self.pruner = dict(pruner or dict(type='MedianPruner'))
        self.values = {}  # epoch -> value, for the objective

    def after_val_epoch(self, runner, metrics=None):
        # lazy: optuna is an optional dependency (tools/tune.py only)
        import optuna
        if not metrics or self.metric not in metrics:
            return
        value = float(metrics[self.metric])
        self.values[runner.epoch] = value
        kwargs = dict(self.pruner)
        pruner = getattr(optuna.pruners, kwargs.pop('type'))(**kwargs)
        study = optuna.load_study(study_name=self.study_name,
                                  storage=self.storage, pruner=pruner)
        trial = optuna.trial.Trial(study, self.trial_id)
        trial.report(value, runner.epoch)
        if trial.should_prune():
            runner.logger.info(f'trial pruned after epoch {runner.epoch}: '
                               f'{self.metric} {value:.2f}')
            raise optuna.TrialPruned(
                f'{self.metric} {value:.2f} after epoch {runner.epoch}')
