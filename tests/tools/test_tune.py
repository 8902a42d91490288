"""tools/tune.py on the tiny config: trials are normal runs in their own
folders, the study resumes after a kill, the best trial becomes a config."""
import glob
import os.path as osp

import pytest
from conftest import ROOT, load_tool, run_main

optuna = pytest.importorskip(
    'optuna', reason='optuna is optional: pip install -r '
    'requirements/optional.txt')

TUNE = load_tool('tools/tune.py')
CONFIG = osp.join(ROOT, 'tests/data/configs/resnet18_tune.py')


def search(work_dir, annotated_root, trials, **kwargs):
    from custom_modules.apis.tuning import tune
    return tune(CONFIG, trials, work_dir=work_dir, data_root=annotated_root,
                from_scratch=True, **kwargs)


@pytest.fixture(scope='module')
def searched(annotated_root, tmp_path_factory):
    """One trial, then the command again asking for two in all."""
    work_dir = str(tmp_path_factory.mktemp('tune') / 'search')
    first = search(work_dir, annotated_root, 1)
    out = TUNE.main([CONFIG, '--trials', '2', '--work-dir', work_dir,
                     '--data-root', annotated_root, '--from-scratch'])
    return work_dir, first, out


def test_a_resumed_search_runs_only_the_missing_trials(searched):
    work_dir, first, out = searched
    assert first['ran'] == 1 and out['ran'] == 1
    trials = out['study'].trials
    assert [t.number for t in trials] == [0, 1]
    assert all(t.state.name == 'COMPLETE' for t in trials)
    for t in trials:  # each a normal run in its own folder
        folder = osp.join(work_dir, f'trial_{t.number}')
        assert osp.isfile(osp.join(folder, 'epoch_1.pth'))
        assert t.intermediate_values == {1: t.value}
    assert first['study'].trials[0].params == trials[0].params


def test_outputs_table_plots_and_a_best_config(searched):
    from custom_modules.apis.config import load_config
    work_dir, _, out = searched
    table = open(osp.join(work_dir, 'tune_results.md')).read()
    assert table.count('| complete |') == 2 and 'frozen_stages' in table
    for name in ('tune_history.png', 'tune_importance.png'):
        assert open(osp.join(work_dir, name), 'rb').read(4) == b'\x89PNG'
    text = open(out['best']).read()
    assert "_base_ = ['../../../" in text or '_base_ = [' in text
    cfg = load_config(out['best'])
    best = out['study'].best_params
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(best['lr'])
    assert cfg.model.backbone.frozen_stages == best['frozen_stages']
    assert cfg.train_dataloader.batch_size == best['batch_size']
    assert not any(h['type'] == 'OptunaPruningHook'
                   for h in cfg.get('custom_hooks', []))


def test_the_pruner_stops_a_trial(annotated_root, tmp_path):
    out = search(str(tmp_path / 'pruned'), annotated_root, 1,
                 pruner=dict(type='ThresholdPruner', lower=101))
    (trial, ) = out['study'].trials
    assert trial.state.name == 'PRUNED' and out['best'] is None


def test_a_config_without_tune_space_is_refused(capsys):
    code, err = run_main(TUNE.main, [
        osp.join(ROOT, 'tests/data/configs/resnet18_freeze2_fixed.py'),
        '--trials', '1'], capsys)
    assert code != 0 and 'tune_space' in err


def test_a_trial_cut_off_mid_run_is_marked_failed(tmp_path):
    """A kill during a trial leaves it RUNNING in the study: on resume it
    counts as failed, not finished, so a new trial replaces it."""
    from custom_modules.apis.tuning import fail_stale_trials
    study = optuna.create_study(storage=f'sqlite:///{tmp_path}/study.db')
    study.ask()
    assert fail_stale_trials(optuna, study) == 1
    assert [t.state.name for t in study.trials] == ['FAIL']


@pytest.mark.parametrize('config', sorted(glob.glob(
    osp.join(ROOT, 'configs/tune/*.py'))))
def test_every_model_choice_of_a_shipped_search_space_builds_a_checked_model(
        config):
    """A choice that builds a head whose parts disagree on the number of
    classes (LabelSmoothLoss without num_classes) failed mmpretrain's
    ClassNumCheckHook in the middle of a search on the photos."""
    from mmpretrain.registry import MODELS

    from custom_modules.apis.config import load_config
    cfg = load_config(config)
    classes = cfg.model.head.num_classes
    for name, spec in cfg.tune_space.items():
        if spec['type'] != 'categorical' or not spec['key'].startswith(
                'model.') or not isinstance(spec['choices'], dict):
            continue
        for label, value in spec['choices'].items():
            trial = load_config(config)
            trial.merge_from_dict({spec['key']: value})
            model = MODELS.build(trial.model)
            for module in model.modules():
                if hasattr(module, 'num_classes'):
                    assert module.num_classes == classes, (name, label, module)
