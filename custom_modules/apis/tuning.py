"""A hyper-parameter search with Optuna (``tools/tune.py``).

The config's ``tune_space`` names each parameter's type (``float``, ``int``
or ``categorical``), range or choices and the config key it sets
(docs/training.md). Each trial trains a config in ``WORK_DIR/trial_<n>/``
that inherits the base one (TPE sampler; a median pruner on per-epoch val
accuracy, :class:`OptunaPruningHook`). The study is ``WORK_DIR/study.db``,
so a killed search resumes where it stopped.
"""
import os
import os.path as osp
import time
import warnings

from mmengine.config import Config

from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import atomic_write, save_figure

from .config import load_config
from .training import train

STUDY_NAME = 'tune'
METRIC = 'accuracy/top1'
PRUNER = dict(type='MedianPruner', n_startup_trials=3, n_warmup_steps=1)
OUTPUTS = dict(table='tune_results.md', best='best_config.py',
               history='tune_history.png', importance='tune_importance.png')


def check_space(space, path):
    """The config's ``tune_space``, checked; returns it as plain dicts."""
    if not space:
        raise UserInputError(
            f'{path} has no tune_space: declare what to search, e.g. '
            "tune_space = dict(lr=dict(type='float', low=1e-4, high=3e-3, "
            "log=True, key='optim_wrapper.optimizer.lr'))")
    space = space.to_dict()
    for name, spec in space.items():
        kind = spec.get('type')
        needs = dict(float=('low', 'high', 'key'), int=('low', 'high', 'key'),
                     categorical=('choices', 'key')).get(kind)
        if needs is None:
            raise UserInputError(f'tune_space.{name}: type {kind!r}; use '
                                 "'float', 'int' or 'categorical'.")
        missing = [k for k in needs if k not in spec]
        if missing:
            raise UserInputError(f'tune_space.{name} ({kind}) needs '
                                 f'{", ".join(missing)}.')
    return space


def suggest(trial, space):
    """Sample every parameter: ``{name: (config key, value)}``."""
    chosen = {}
    for name, spec in space.items():
        if spec['type'] == 'categorical':
            choices = spec['choices']
            label = trial.suggest_categorical(name, list(choices))
            value = choices[label] if isinstance(choices, dict) else label
        else:  # suggest_float or suggest_int
            value = getattr(trial, f'suggest_{spec["type"]}')(
                name, spec['low'], spec['high'],
                **{k: spec[k] for k in ('log', 'step') if k in spec})
        chosen[name] = (spec['key'], value)
    return chosen


def write_config(path, base, chosen, comment, extra=None):
    """Write a config inheriting ``base`` with the chosen values."""
    tree = Config()  # 'a.b': v -> {'a': {'b': v}}; plain dicts and lists
    tree.merge_from_dict({**dict(chosen.values()), **(extra or {})})
    lines = [f'# {comment}',
             f'_base_ = [{osp.relpath(base, osp.dirname(path))!r}]', '']
    lines += [f'{key} = {value!r}' for key, value in tree.to_dict().items()]
    atomic_write(path, lambda f: f.write('\n'.join(lines) + '\n'), force=True)
    return path


def objective(study, storage, config, space, work_dir, pruner, flags):
    """One trial: a training run, valued by its best val accuracy."""
    def run_trial(trial):
        folder = osp.join(work_dir, f'trial_{trial.number}')
        os.makedirs(folder, exist_ok=True)
        chosen = suggest(trial, space)
        base_hooks = load_config(config).get('custom_hooks') or []
        hook = dict(type='OptunaPruningHook', storage=storage,
                    study_name=study.study_name, trial_id=trial._trial_id,
                    pruner=pruner, metric=METRIC)
        path = write_config(
            osp.join(folder, f'trial_{trial.number}.py'), config, chosen,
            f'tools/tune.py trial {trial.number} of {config}',
            dict(custom_hooks=[*base_hooks, hook]))
        runner = train(path, work_dir=folder, **flags)
        values = [h for h in runner.hooks
                  if type(h).__name__ == 'OptunaPruningHook'][0].values
        if not values:
            raise UserInputError(f'trial {trial.number} reported no {METRIC}:'
                                 ' the search needs a validation split.')
        return max(values.values())

    return run_trial


def fail_stale_trials(optuna, study):
    """Mark FAIL the trials a killed search left RUNNING; returns how many."""
    stale = study.get_trials(deepcopy=False,
                             states=(optuna.trial.TrialState.RUNNING, ))
    for trial in stale:
        study._storage.set_trial_state_values(
            trial._trial_id, optuna.trial.TrialState.FAIL)
    return len(stale)


def results_table(study):
    """Markdown: one row per trial, its state, value, epochs and values."""
    names = sorted({k for t in study.trials for k in t.params})
    rows = ['| trial | state | best val top-1 (%) | epochs | seconds | '
            + ' | '.join(names) + ' |',
            '|' + '---|' * (5 + len(names))]
    for t in study.trials:
        params = [f'{t.params[n]:.3g}' if isinstance(t.params.get(n), float)
                  else str(t.params.get(n, '')) for n in names]
        rows.append(' | '.join([
            f'| {t.number}', t.state.name.lower(),
            '' if t.value is None else f'{t.value:.2f}',
            str(len(t.intermediate_values)),
            '' if t.duration is None else f'{t.duration.total_seconds():.0f}',
            *params]) + ' |')
    return '\n'.join(rows) + '\n'


def plots(optuna, study, work_dir):
    """Optuna's history and importance plots as PNGs; returns the paths."""
    # lazy: optuna's plots need matplotlib, imported only here
    from optuna.visualization import matplotlib as vis
    written = []
    makers = [('history', vis.plot_optimization_history)]
    done = study.get_trials(states=(optuna.trial.TrialState.COMPLETE, ))
    if len(done) >= 2 and len({str(t.params) for t in done}) >= 2:
        makers.append(('importance', vis.plot_param_importances))
    for name, make in makers:
        with warnings.catch_warnings():
            # "experimental" names the plots' API, not a doubt about them
            warnings.simplefilter('ignore', optuna.exceptions.ExperimentalWarning)
            axes = make(study)
        written.append(save_figure(axes.figure, osp.join(
            work_dir, OUTPUTS[name]), force=True))
        axes.figure.clear()
    return written


def tune(config, trials=20, timeout=None, work_dir=None, seed=0,
         pruner=None, **flags):
    """Search ``config``'s ``tune_space`` as ``tools/tune.py`` does.

    Args:
        config (str): The base config (with ``tune_space``).
        trials (int): Finished trials wanted in all (earlier ones count).
        timeout (float, optional): Start no trial after this many seconds.
        work_dir (str, optional): Default ``work_dirs/tune_<config name>``.
        seed (int): The TPE sampler's seed.
        pruner (dict, optional): ``type`` (a class of ``optuna.pruners``)
            and its arguments. Default: :data:`PRUNER`.
        **flags: tools/train.py's flags for every trial.

    Returns:
        dict: ``study``, ``ran`` (trials run now), ``best`` (the best
        config's path or None) and the other outputs' paths.
    """
    try:
        # lazy: optuna is an optional dependency (requirements/optional.txt)
        import optuna
    except ImportError as err:
        raise UserInputError('tools/tune.py needs optuna: pip install -r '
                             'requirements/optional.txt') from err
    space = check_space(load_config(config).get('tune_space'), config)
    work_dir = work_dir or osp.join(
        'work_dirs', 'tune_' + osp.splitext(osp.basename(config))[0])
    os.makedirs(work_dir, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f'sqlite:///{osp.abspath(osp.join(work_dir, "study.db"))}'
    study = optuna.create_study(study_name=STUDY_NAME, direction='maximize',
                                load_if_exists=True, storage=storage)
    fail_stale_trials(optuna, study)
    # a resumed search must not draw the first run's samples again
    study.sampler = optuna.samplers.TPESampler(seed=seed + len(study.trials))
    finished = optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED
    before = len(study.get_trials(states=finished))
    remaining = max(0, trials - before)
    start = time.monotonic()
    if remaining:
        run_trial = objective(study, storage, config, space, work_dir,
                              pruner or PRUNER, flags)
        study.optimize(run_trial, n_trials=remaining, timeout=timeout)
    out = dict(study=study, ran=len(study.get_trials(states=finished)) - before,
               elapsed=time.monotonic() - start)
    out['table'] = osp.join(work_dir, OUTPUTS['table'])
    atomic_write(out['table'], lambda f: f.write(results_table(study)),
                 force=True)
    out['plots'] = plots(optuna, study, work_dir) if study.trials else []
    out['best'] = None
    if study.get_trials(states=(optuna.trial.TrialState.COMPLETE, )):
        best = study.best_trial
        out['best'] = write_config(
            osp.join(work_dir, OUTPUTS['best']), config,
            suggest(optuna.trial.FixedTrial(best.params), space),
            f'tools/tune.py: trial {best.number} of {len(study.trials)}, '
            f'best val top-1 {best.value:.2f} %')
    return out


def summary(out):
    """The lines tools/tune.py ends with."""
    study = out['study']
    lines = [f'ran {out["ran"]} trial(s) in {out["elapsed"]:.0f} s; the study '
             f'holds {len(study.trials)}']
    if out['best']:
        best = study.best_trial
        lines.append(f'best: trial {best.number}, val top-1 {best.value:.2f} '
                     f'%, {best.params}')
        lines.append(f'wrote {out["best"]} (inherits the base config)')
    lines.append(f'wrote {out["table"]}' + ''.join(
        f', {p}' for p in out['plots']))
    return '\n'.join(lines)
