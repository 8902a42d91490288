"""tools/train.py straight from a photo tree (``--data-folder``), tracking
(``--vis-backend``), early stopping and the closing summary, read back with
TensorBoard's and MLflow's own readers."""
import contextlib
import glob
import importlib.util
import io
import os
import os.path as osp
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import TINY_CONFIG, load_tool, run_main, run_runner

from custom_modules.apis import tracking
from custom_modules.apis.config import load_config, set_data_root
from custom_modules.apis.data_folder import split_data_folder
from custom_modules.apis.preflight import check_data
from custom_modules.apis.training import add_early_stopping
from custom_modules.datasets.annotations import make_annotations
from custom_modules.utils.errors import UserInputError

TRAIN = load_tool('tools/train.py')
TEST = load_tool('tools/test.py')
BACKENDS = [name for name in ('tensorboard', 'mlflow')
            if importlib.util.find_spec(name)]
EXPERIMENT = 'resnet18_freeze2_fixed'  # MLflow's: the config's name


def needs(name):
    return pytest.mark.skipif(
        name not in BACKENDS, reason=f'{name} is not installed (pip install '
        '-r requirements/optional.txt)')


def listing(root):
    """Every file under ``root`` with its size and modification time."""
    return sorted((osp.relpath(osp.join(d, f), root),
                   os.stat(osp.join(d, f)).st_size,
                   os.stat(osp.join(d, f)).st_mtime_ns)
                  for d, _, files in os.walk(root) for f in files)


def split_lines(data):
    return {s: (data / f'{s}.txt').read_text().splitlines()
            for s in ('train', 'val', 'test')}


@pytest.fixture(scope='module')
def run(synthetic_root, tmp_path_factory):
    """One run straight from the photo tree whose val accuracy plateaus:
    the lr is ~0 and BatchNorm frozen, so nothing changes and patience 1
    stops it after epoch 2 of 4."""
    work_dir = str(tmp_path_factory.mktemp('comfort') / 'run')
    before = listing(synthetic_root)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run_runner(TRAIN.main, [
            TINY_CONFIG, '--from-scratch', '--data-folder', synthetic_root,
            '--work-dir', work_dir, '--early-stop', '1',
            *(f'--vis-backend={name}' for name in BACKENDS), '--cfg-options',
            'train_cfg.max_epochs=4', 'optim_wrapper.optimizer.lr=1e-30',
            'param_scheduler.eta_min=0', 'model.backbone.norm_eval=True'])
    return SimpleNamespace(work_dir=work_dir, out=out.getvalue(),
                           before=before, src=synthetic_root)


def test_data_folder_is_split_under_the_work_dir_leaving_it_untouched(
        run, tmp_path):
    assert listing(run.src) == run.before
    data = osp.join(run.work_dir, 'data')
    lines = split_lines(Path(data))
    assert [len(lines[s]) for s in ('train', 'val', 'test')] == [80, 10, 10]
    paths = [line.rsplit(' ', 1)[0] for s in lines.values() for line in s]
    assert len(set(paths)) == 100  # no photo in two splits
    assert osp.realpath(osp.join(data, 'images')) == osp.realpath(run.src)
    # Seeded: the same seed gives the same split, another seed another.
    cfg = load_config(TINY_CONFIG)
    for seed, work_dir in ((0, 'same'), (1, 'other')):
        cfg.work_dir = str(tmp_path / work_dir)
        split_data_folder(cfg, run.src, seed=seed)
    assert split_lines(tmp_path / 'same' / 'data') == lines
    assert split_lines(tmp_path / 'other' / 'data') != lines
    assert cfg.train_dataloader.dataset.data_root == str(
        tmp_path / 'other' / 'data')


def test_summary_names_the_best_checkpoint_and_the_early_stop(run):
    best = glob.glob(osp.join(run.work_dir, 'best_*.pth'))
    assert len(best) == 1
    assert f'best checkpoint: {best[0]} (accuracy/top1 ' in run.out
    assert ('epochs run: 2 of 4; stopped early after epoch 2: accuracy/top1 '
            'did not improve') in run.out
    assert not osp.exists(osp.join(run.work_dir, 'epoch_3.pth'))
    assert f'results saved to {run.work_dir} (log: ' in run.out
    log = re.search(r'\(log: (.+)\)', run.out).group(1)
    assert osp.isfile(log) and 'did not improve' in open(log).read()


@needs('tensorboard')
def test_tensorboard_has_the_scalars_and_the_config(run):
    from tensorboard.backend.event_processing.event_accumulator import (
        EventAccumulator,
    )
    [vis_data] = glob.glob(osp.join(run.work_dir, '*', 'vis_data'))
    events = EventAccumulator(vis_data)
    events.Reload()
    accuracy = events.Scalars('accuracy/top1')
    assert [e.step for e in accuracy] == [1, 2]
    assert accuracy[0].value == accuracy[1].value  # the plateau
    assert {'loss', 'lr'} <= set(events.Tags()['scalars'])
    assert {'reliability_epoch_1.png', 'reliability_epoch_2.png'} <= set(
        events.Tags()['images'])
    [config] = events.Tensors('config/text_summary')
    assert 'max_epochs=4' in config.tensor_proto.string_val[0].decode()


@needs('mlflow')
def test_mlflow_has_metrics_params_and_artefacts(run, monkeypatch):
    from mlflow import MlflowClient
    monkeypatch.setenv('MLFLOW_ALLOW_FILE_STORE', 'true')
    assert tracking.mlflow_uri(run.work_dir) == 'file://' + osp.join(
        osp.abspath(run.work_dir), 'mlruns')
    client = MlflowClient(tracking_uri=tracking.mlflow_uri(run.work_dir))
    experiment = client.get_experiment_by_name(EXPERIMENT)
    [found] = client.search_runs([experiment.experiment_id])
    history = client.get_metric_history(found.info.run_id, 'accuracy/top1')
    assert [m.step for m in history] == [1, 2]
    assert found.data.params['train_cfg.max_epochs'] == '4'
    artefacts = {a.path for a in client.list_artifacts(found.info.run_id)}
    assert {'config.py', 'checkpoints', 'data',
            'reliability_epoch_2.png'} <= artefacts
    [best] = client.list_artifacts(found.info.run_id, 'checkpoints')
    assert best.path == 'checkpoints/' + osp.basename(glob.glob(
        osp.join(run.work_dir, 'best_*.pth'))[0])


@pytest.mark.skipif(not BACKENDS, reason='neither tensorboard nor mlflow is '
                    'installed (pip install -r requirements/optional.txt)')
def test_test_tool_tracks_the_test_metrics(run, tmp_path, monkeypatch):
    work_dir = str(tmp_path / 'test')
    metrics = run_runner(TEST.main, [
        TINY_CONFIG, glob.glob(osp.join(run.work_dir, 'best_*.pth'))[0],
        '--data-root', osp.join(run.work_dir, 'data'), '--work-dir',
        work_dir, *(f'--vis-backend={name}' for name in BACKENDS)])
    if 'tensorboard' in BACKENDS:
        from tensorboard.backend.event_processing.event_accumulator import (
            EventAccumulator,
        )
        events = EventAccumulator(glob.glob(osp.join(work_dir, '*',
                                                     'vis_data'))[0])
        events.Reload()
        [value] = events.Scalars('test/accuracy/top1')
        assert value.value == pytest.approx(metrics['accuracy/top1'])
        assert 'reliability_test.png' in events.Tags()['images']
    if 'mlflow' in BACKENDS:
        from mlflow import MlflowClient
        monkeypatch.setenv('MLFLOW_ALLOW_FILE_STORE', 'true')
        client = MlflowClient(tracking_uri=tracking.mlflow_uri(work_dir))
        experiment = client.get_experiment_by_name(EXPERIMENT)
        [found] = client.search_runs([experiment.experiment_id])
        assert found.data.metrics['test/accuracy/top1'] == pytest.approx(
            metrics['accuracy/top1'])


@pytest.mark.parametrize('name', ['tensorboard', 'mlflow'])
@pytest.mark.parametrize('tool', [TRAIN, TEST])
def test_a_missing_tracking_package_names_the_install_command(
        name, tool, annotated_root, tiny_checkpoint, monkeypatch, tmp_path,
        capsys):
    backend, _, install = tracking.VIS_BACKENDS[name]
    monkeypatch.setitem(tracking.VIS_BACKENDS, name,
                        (backend, 'not_installed_for_this_test', install))
    positional = [TINY_CONFIG] + ([tiny_checkpoint] if tool is TEST else [])
    code, err = run_main(tool.main, [
        *positional, '--data-root', annotated_root, '--work-dir',
        str(tmp_path / 'w'), '--vis-backend', name], capsys)
    assert code == 2 and f'pip install {name}' in err


def test_bad_photos_are_left_out_and_listed_unless_told_to_stop(
        synthetic_root, tmp_path, capsys):
    src = tmp_path / 'photos'
    shutil.copytree(synthetic_root, src)
    (src / 'daisy' / 'notes.jpg').write_text('not a photo')
    cfg = load_config(TINY_CONFIG)
    cfg.work_dir = str(tmp_path / 'w')
    report = split_data_folder(cfg, str(src))  # the default: exclude
    assert 'daisy/notes.jpg' in capsys.readouterr().out
    assert sum(report.counts['daisy'].values()) == 20
    assert 'notes.jpg' not in (tmp_path / 'w' / 'data' /
                               'train.txt').read_text()
    with pytest.raises(UserInputError, match='daisy/notes.jpg'):
        split_data_folder(cfg, str(src), on_problem='stop')


def test_data_folder_and_data_root_together_are_refused(
        synthetic_root, annotated_root, tmp_path, capsys):
    code, err = run_main(TRAIN.main, [
        TINY_CONFIG, '--data-folder', synthetic_root, '--data-root',
        annotated_root, '--work-dir', str(tmp_path / 'w')], capsys)
    assert code == 2 and 'not both' in err


@pytest.mark.parametrize('folder', ['flowers', 'data'])
def test_a_photo_tree_as_data_root_suggests_commands_that_work(
        folder, synthetic_root, tmp_path, monkeypatch):
    """The suggested make_annotations.py command writes outside the tree
    (the tool refuses its source folder), and --data-folder is offered."""
    monkeypatch.chdir(tmp_path)
    src = tmp_path / folder
    os.symlink(synthetic_root, src)
    cfg = load_config(TINY_CONFIG)
    set_data_root(cfg, folder)
    with pytest.raises(UserInputError) as err:
        check_data(cfg)
    message = str(err.value)
    assert f'tools/train.py CONFIG --data-folder {folder}' in message
    out = re.search(rf'make_annotations.py {folder} --out-dir (\S+) '
                    r'--split 8:1:1', message).group(1)
    make_annotations(folder, out, split='8:1:1', workers=1, progress=False)
    set_data_root(cfg, out)
    check_data(cfg)


def test_early_stopping_watches_the_best_checkpoint_metric():
    cfg = load_config(TINY_CONFIG)
    assert add_early_stopping(cfg) is None  # the config's default: off
    cfg.early_stop_patience = 3
    hook = add_early_stopping(cfg)
    assert hook == dict(type='EarlyStoppingHook', monitor='accuracy/top1',
                        rule=None, patience=3)
    assert cfg.custom_hooks[-1] == hook
    assert add_early_stopping(cfg, 5)['patience'] == 5  # the flag wins
    assert sum(h['type'] == 'EarlyStoppingHook'
               for h in cfg.custom_hooks) == 1
    cfg.default_hooks.checkpoint.save_best = 'single-label/f1-score'
    cfg.default_hooks.checkpoint.rule = 'greater'
    assert add_early_stopping(cfg, 2)['monitor'] == 'single-label/f1-score'
    cfg.default_hooks.checkpoint.save_best = None
    with pytest.raises(UserInputError, match='save_best=accuracy/top1'):
        add_early_stopping(cfg, 2)
    with pytest.raises(UserInputError, match='whole number'):
        add_early_stopping(cfg, 0.5)


def test_summary_without_validation_names_the_last_checkpoint(tmp_path):
    from mmengine.logging import MessageHub

    from custom_modules.apis.training import train_summary
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_2.pth'))
    runner = SimpleNamespace(
        message_hub=MessageHub('summary_test'), hooks=[],
        work_dir=str(tmp_path), epoch=2, max_epochs=2,
        train_loop=SimpleNamespace(stop_training=False),
        log_dir=str(tmp_path / 't'), timestamp='t')
    assert train_summary(runner).splitlines() == [
        f'last checkpoint: {tmp_path / "epoch_2.pth"} (no best checkpoint '
        'kept)', 'epochs run: 2 of 2',
        f'results saved to {tmp_path} (log: {tmp_path / "t" / "t.log"})']
