"""The grid runner end to end on a 2-config subset, then inference."""
import csv
import glob
import json
import os
import os.path as osp
import re
import shutil
import zipfile

import pytest
from conftest import (
    TINY_CONFIG,
    load_tool,
    plant_pickle,
    run_log,
    run_main,
    run_tool,
)
from html_pages import assert_self_contained, rendered_screenshot
from mmengine.config import Config
from PIL import Image, ImageStat

from custom_modules.apis.grid.api import make_grid
from custom_modules.apis.grid.results import write_results
from custom_modules.apis.precision import precision_label
from custom_modules.apis.robustness import (
    SHORT_SEVERITIES,
    SHORT_SHIFTS,
    robustness,
)
from custom_modules.apis.run_logs import best_checkpoint

infer_main = load_tool('tools/infer.py').main

CONFIG_DIR = osp.dirname(TINY_CONFIG)
SUBSET = ['resnet18_freeze2_fixed', 'resnet18_freeze3_mix']
BATCH = 16  # configs/demo's batch size, which the stand-ins inherit
SPEED = ['--channels-last']  # passed on to every run's train, calibrate, test
run_grid = load_tool('tools/run_grid.py')
grid_main = run_grid.main


def grid_args(work_dir, data_root, *extra):
    return ['--config-dir', CONFIG_DIR, '--configs', *SUBSET, '--work-dir',
            work_dir, '--data-root', data_root, '--from-scratch', *SPEED,
            *extra]


def grid(work_dir, data_root, *extra):
    """tools/run_grid.py as a user runs it."""
    return run_tool('tools/run_grid.py', *grid_args(work_dir, data_root,
                                                     *extra))


def grid_in_process(capsys, work_dir, data_root, *extra):
    """The grid's main in-process (its runs still train in subprocesses);
    returns what it printed."""
    capsys.readouterr()
    assert grid_main(grid_args(work_dir, data_root, *extra)) == 0
    return capsys.readouterr().out


def logged(run_dir):
    """Iteration times and per-epoch val entries, straight from the logs."""
    times, val = [], {}
    for path in sorted(glob.glob(osp.join(run_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            for line in f:
                entry = json.loads(line)
                if 'accuracy/top1' in entry:
                    val[entry['step']] = entry
                elif 'time' in entry:
                    times.append(entry['time'])
    return times, val


def logged_best(run_dir):
    """Best val epoch and its numbers, read straight from scalars.json."""
    _, val = logged(run_dir)
    epoch = min(val, key=lambda e: (-val[e]['accuracy/top1'], e))
    return epoch, val[epoch]


def assert_png(path):
    with open(path, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n', path
    with Image.open(path) as img:
        assert img.width > 100 and img.height > 100


@pytest.fixture(scope='module')
def finished_grid(annotated_root, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('grid') / 'grid')
    proc = grid(work_dir, annotated_root, '--keep-checkpoints', 'all')
    return work_dir, proc


def test_results_table_matches_each_runs_logs(finished_grid,
                                              annotated_root):
    work_dir, proc = finished_grid
    with open(osp.join(annotated_root, 'val.txt')) as f:
        val_images = len(f.readlines())
    with open(osp.join(work_dir, 'results.csv')) as f:
        rows = {r['config']: r for r in csv.DictReader(f)}
    assert sorted(osp.basename(c)[:-3] for c in rows) == SUBSET
    for config, row in rows.items():
        run_dir = osp.join(work_dir, osp.basename(config)[:-3])
        epoch, best = logged_best(run_dir)
        assert float(row['val_acc']) == pytest.approx(best['accuracy/top1'])
        assert float(row['train_acc']) == pytest.approx(
            best['train_accuracy/top1'])
        # ... measured on the hook's subset, as many images as val.
        assert float(row['train_images']) == best['train_images'] \
            == val_images
        assert float(row['macro_f1']) == pytest.approx(
            best['single-label/f1-score'])
        assert float(row['best_epoch']) == epoch
        assert float(row['wall_time_s']) > 0
        # Images/s: the batch the run used, not the full config's 32.
        times, _ = logged(run_dir)
        assert float(row['img_per_s']) == pytest.approx(
            BATCH * len(times) / sum(times), rel=1e-6)
        # train.py, calibrate.py and test.py each ran with --channels-last
        assert row['precision'] == 'fp32 + channels_last'
        for child in ('', 'calibration', 'test'):
            saved, = glob.glob(osp.join(run_dir, child, '2*', 'vis_data',
                                        'config.py'))
            assert precision_label(Config.fromfile(saved)) == \
                'fp32 + channels_last', saved
        _, freeze, aug = osp.basename(run_dir).split('_')
        assert (row['model'], row['frozen_stages'], row['augmentation']) == (
            'ResNet-18', freeze[-1], aug)
    text = open(osp.join(work_dir, 'results.md')).read()
    assert 'Precision: fp32 + channels_last (every run).' in text
    assert '| Model | Frozen stages | Augmentation | Train images | ' \
        'Train acc (%) | Val acc (%) |' in text
    assert 'training split with the test' in text.replace('*', '').replace(
        '\n  ', ' ')
    assert 'Val acc' in proc.stdout
    assert 'Loads checkpoint' not in proc.stdout  # one line per run


def test_plots_are_valid_pngs(finished_grid):
    work_dir, _ = finished_grid
    assert_png(osp.join(work_dir, 'results.png'))
    # The analysis step calibrates each run and compares every two.
    assert glob.glob(osp.join(work_dir, SUBSET[0], '*.calibration.json'))
    assert "McNemar's exact test, val split" in open(
        osp.join(work_dir, 'results.md')).read()
    analysis = osp.join(work_dir, SUBSET[0], 'analysis')
    for name in ('confusion_matrix.png', 'misclassified.png',
                 'training_curves.png', 'cams.png'):
        assert_png(osp.join(analysis, name))
    with open(osp.join(work_dir, SUBSET[0], 'done.json')) as f:
        record = json.load(f)
    assert record['analysis']['cams.png'] == osp.join(analysis, 'cams.png')
    assert 'cams_error' not in record
    with open(osp.join(analysis, 'per_class.csv')) as f:
        rows = list(csv.DictReader(f))
    assert [r['cls'] for r in rows] == ['daisy', 'dandelion', 'rose',
                                        'sunflower', 'tulip', 'macro avg']
    assert sum(int(r['support']) for r in rows[:5]) == int(rows[5]['support'])


def test_failed_cams_are_noted_not_fatal(finished_grid, annotated_root,
                                        tmp_path, monkeypatch):
    from custom_modules.apis.grid import runner
    run_dir = str(tmp_path / SUBSET[0])
    shutil.copytree(osp.join(finished_grid[0], SUBSET[0]), run_dir)

    def fail(*args, **kwargs):
        raise RuntimeError('out of memory\nat layer4')

    monkeypatch.setattr(runner, 'run_cams', fail)
    grid = make_grid(run_grid.parse_args(
        ['--data-root', annotated_root, '--channels-last']))
    analysis = grid.analyze_run(osp.join(CONFIG_DIR, f'{SUBSET[0]}.py'),
                                run_dir, [])
    assert analysis['cams_error'] == 'RuntimeError: out of memory'
    assert 'cams.png' not in analysis['outputs']
    # The older map is not this model's: gone; the other plots are there.
    assert not osp.exists(osp.join(run_dir, 'analysis', 'cams.png'))
    assert_png(analysis['outputs']['misclassified.png'])


def test_shift_benchmark_is_kept_may_fail_and_can_be_off(
        finished_grid, annotated_root, tmp_path, monkeypatch):
    """A run's stored shift benchmark is reused while it is its best
    checkpoint's (a grid run again fills it into a run finished without
    one); a failing one is noted in its cell, not fatal; turned off
    (--no-shift-benchmark), none is run and the column is absent."""
    from custom_modules.apis.grid import runner
    work_dir = str(tmp_path / 'grid')
    run_dir = osp.join(work_dir, SUBSET[0])
    shutil.copytree(osp.join(finished_grid[0], SUBSET[0]), run_dir)
    config = osp.join(CONFIG_DIR, f'{SUBSET[0]}.py')
    calls = []

    def fail(*args, **kwargs):
        calls.append(args)
        raise RuntimeError('out of memory\nat layer4')

    monkeypatch.setattr(runner, 'robustness', fail)
    monkeypatch.setattr(runner, 'run_cams', lambda *args: 1 / 0)  # fast

    def grid_with(*flags):
        return make_grid(run_grid.parse_args(
            ['--data-root', annotated_root, '--work-dir', work_dir, *flags]))

    done_path = osp.join(run_dir, 'done.json')
    with open(done_path) as f:
        done = json.load(f)
    stored = done.pop('mean_corrupted_acc')
    with open(osp.join(run_dir, 'shift_benchmark.json')) as f:
        summary = json.load(f)
    assert summary['mean_corrupted_accuracy'] == stored
    with open(done_path, 'w') as f:
        json.dump(done, f)
    record = grid_with().train_run(config, None, print)  # finished: skipped
    assert record['mean_corrupted_acc'] == stored and calls == []
    with open(done_path) as f:
        assert json.load(f)['mean_corrupted_acc'] == stored
    # Turned off: not run, no column.
    off = grid_with('--no-shift-benchmark').analyze_run(config, run_dir, [])
    assert calls == [] and not {'mean_corrupted_acc', 'shift_error'} & set(off)
    paths, _ = write_results(work_dir, [dict(done, **off)])
    assert 'Mean corrupted' not in open(paths['results.md']).read()
    # Made from another checkpoint: run again, and here it fails.
    with open(osp.join(run_dir, 'shift_benchmark.json'), 'w') as f:
        json.dump(dict(summary, checkpoint_sha256='0' * 64), f)
    failed = grid_with().shift_result(config, run_dir, [])
    log = osp.join(run_dir, 'grid_shifts.log')
    assert failed == {'shift_error': f'RuntimeError: out of memory; log: {log}'}
    assert len(calls) == 1 and 'at layer4' in open(log).read()
    other = dict(done, config='other.py', model='Other')
    paths, _ = write_results(work_dir, [dict(done, **failed),
                                        dict(other, **off)])
    cells = table_cells(paths['results.md'])
    assert cells['ResNet-18 f2 fixed']['Mean corrupted acc. (%)'] == \
        f'failed: RuntimeError: out of memory; log: {log}'
    assert cells['Other f2 fixed']['Mean corrupted acc. (%)'] == 'not run'


def test_second_call_skips_finished_runs(finished_grid, annotated_root,
                                        capsys):
    work_dir, _ = finished_grid
    stamps = sorted(glob.glob(osp.join(work_dir, '*', '2*')))
    shifts = {path: os.stat(path).st_mtime_ns for path in glob.glob(
        osp.join(work_dir, '*', 'shift_benchmark.json'))}
    printed = grid_in_process(capsys, work_dir, annotated_root,
                              '--keep-checkpoints', 'all')
    assert printed.count('skip') == 2
    assert sorted(glob.glob(osp.join(work_dir, '*', '2*'))) == stamps
    # nor is their shift benchmark run again
    assert len(shifts) == 2 and shifts == {
        path: os.stat(path).st_mtime_ns for path in shifts}


def table_cells(path):
    """results.md's table: {config's model and policy: {header: cell}}."""
    with open(path) as f:  # the first table (McNemar's follows)
        table = f.read().split('\n|', 1)[1].split('\n\n')[0]
    header, _, *rows = [line.strip(' |').split(' | ')
                        for line in ('|' + table).splitlines()]
    return {f'{r[0]} f{r[1]} {r[2]}': dict(zip(header, r)) for r in rows}


def test_mean_corrupted_accuracy_is_the_short_shift_benchmarks(
        finished_grid, annotated_root, tmp_path):
    """After its test, each run's best checkpoint gets the photos demo's
    short shift benchmark: its mean corrupted accuracy is the table's
    column (md, csv, the grid's page), its tables the run page's section."""
    work_dir, proc = finished_grid
    run_dir = osp.join(work_dir, SUBSET[0])
    expected = robustness(
        osp.join(CONFIG_DIR, f'{SUBSET[0]}.py'), best_checkpoint(run_dir),
        shifts=SHORT_SHIFTS, severities=SHORT_SEVERITIES, fit_images=0,
        data_root=annotated_root, out_dir=str(tmp_path))
    with open(osp.join(work_dir, 'results.csv')) as f:
        rows = {osp.basename(r['config'])[:-3]: r for r in csv.DictReader(f)}
    assert all(0 <= float(r['mean_corrupted_acc']) <= 100
               and r['shift_failed'] == '' for r in rows.values())
    value = float(rows[SUBSET[0]]['mean_corrupted_acc'])
    assert value == pytest.approx(expected['mean_corrupted_accuracy'])
    header = 'Mean corrupted acc. (%)'
    cells = table_cells(osp.join(work_dir, 'results.md'))
    assert cells['ResNet-18 f2 fixed'][header] == f'{value:.2f}'
    text = open(osp.join(work_dir, 'results.md')).read()
    assert 'under low_res, squash, jpeg, gaussian_blur at severity 3' in text
    assert header in proc.stdout and 'gaussian_blur at severity 3' in \
        proc.stdout
    assert header in open(osp.join(work_dir, 'report.html')).read()
    page = open(osp.join(run_dir, 'report.html')).read()
    assert f'mean corrupted accuracy: {value:.1f} %' in page


def test_interrupted_run_resumes(finished_grid, annotated_root, capsys):
    work_dir, _ = finished_grid
    run_dir = osp.join(work_dir, SUBSET[1])
    os.remove(osp.join(run_dir, 'done.json'))  # as if killed in epoch 2
    os.remove(osp.join(run_dir, 'epoch_2.pth'))
    with open(osp.join(run_dir, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(run_dir, 'epoch_1.pth'))
    # A planted pickle where the grid once kept its predictions never runs.
    marker = plant_pickle(osp.join(run_dir, 'val_predictions.pkl'))
    printed = grid_in_process(capsys, work_dir, annotated_root,
                              '--keep-checkpoints', 'all')
    assert f'resume {run_dir}' in printed
    assert 'resumed at epoch 1, iteration' in open(
        osp.join(run_dir, 'grid_train.log')).read()
    assert 'resumed epoch: 1' in run_log(run_dir)  # mmengine's own line
    assert osp.isfile(osp.join(run_dir, 'done.json'))
    assert not osp.exists(marker)


def test_unknown_pattern_is_a_clear_error(tmp_path, capsys):
    code, err = run_main(grid_main, ['--configs', 'resnet50_*', '--work-dir',
                                str(tmp_path)], capsys)
    assert code == 2 and 'no config' in err


def test_best_checkpoint_is_found_by_epoch_number(tmp_path):
    for epoch in (9, 12):  # whole archives, as torch.save writes
        zipfile.ZipFile(tmp_path / f'best_accuracy_top1_epoch_{epoch}.pth',
                        'w').close()
    assert best_checkpoint(str(tmp_path)).endswith('_epoch_12.pth')


def test_inference_gives_class_names_and_topk(finished_grid, annotated_root,
                                              tmp_path, capsys):
    work_dir, _ = finished_grid
    checkpoint = glob.glob(osp.join(work_dir, SUBSET[0], 'best_*.pth'))[0]
    images = osp.join(annotated_root, 'images')
    out = str(tmp_path / 'preds.json')
    config = osp.join(CONFIG_DIR, f'{SUBSET[0]}.py')
    proc = run_tool('tools/infer.py', config, checkpoint,
                    osp.join(images, 'rose'),
                    osp.join(images, 'tulip', '*_000*.jpg'), '--topk', '3',
                    '--batch-size', '4', '--device', 'cpu', '--out', out)
    # The checkpoint is announced once, naming the weights-only loader.
    assert proc.stdout.count('Loads checkpoint') == 1
    assert f'Loads checkpoint by weights_only backend from path: ' \
        f'{checkpoint}' in proc.stdout
    with open(out) as f:
        results = json.load(f)
    assert len(results) == 20 + 10  # a folder of 20 and a glob of 10
    for r in results:
        assert len(r['predictions']) == 3
        assert {p['class'] for p in r['predictions']} <= {
            'daisy', 'dandelion', 'rose', 'sunflower', 'tulip'}
        scores = [p['score'] for p in r['predictions']]
        assert scores == sorted(scores, reverse=True) and scores[0] <= 1
    csv_out = str(tmp_path / 'preds.csv')
    assert infer_main([config, checkpoint,
                       osp.join(images, 'daisy', 'daisy_0000.jpg'),
                       '--topk', '2', '--out', csv_out]) is not None
    with open(csv_out) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ['path', 'class_1', 'score_1', 'class_2', 'score_2',
                       'unknown', 'reject_score', 'reject_value']
    assert len(rows) == 2
    code, err = run_main(infer_main, [config, checkpoint,
                                      str(tmp_path / 'nothing*.jpg')], capsys)
    assert code == 2 and 'no file matches' in err


def test_each_run_and_the_grid_get_a_self_contained_page(finished_grid):
    work_dir, proc = finished_grid
    for name in SUBSET:
        run_dir = osp.join(work_dir, name)
        text = open(osp.join(run_dir, 'report.html')).read()
        assert_self_contained(text)
        with open(osp.join(run_dir, 'done.json')) as f:
            done = json.load(f)
        _, best = logged_best(run_dir)
        assert f'{best["accuracy/top1"]:.2f} %' in text
        assert f'{done["val_acc"]:.2f} %' in text
        assert f'{done["temperature"]:.3f}' in text
        cams = osp.isfile(osp.join(run_dir, 'analysis', 'cams.png'))
        assert ('Class activation maps not drawn' in text) != cams
        assert f'<code>{name}.py</code>' in text  # the config, relative
    grid_page = osp.join(work_dir, 'report.html')
    assert f'wrote {grid_page}' in proc.stdout
    text = open(grid_page).read()
    assert_self_contained(text)
    assert 'McNemar&#x27;s exact test' in text and 'Val acc (%)' in text
    # Each run's page, by a relative link that resolves to its file.
    links = re.findall(r'<a href="([^"]+)">', text)
    assert sorted(links) == [f'{name}/report.html' for name in SUBSET]
    assert all(osp.isfile(osp.join(work_dir, link)) for link in links)


def test_run_page_renders_in_a_browser(finished_grid, browser,
                                       annotated_root):
    work_dir, _ = finished_grid
    run_dir = osp.join(work_dir, SUBSET[0])
    shot = rendered_screenshot(
        browser, 'file://' + osp.abspath(osp.join(run_dir, 'report.html')))
    assert max(ImageStat.Stat(shot.convert('L')).stddev) > 20  # not blank
    # All figures (curves, LR, matrix, mistakes, reliability, risk-coverage
    # and CAMs if drawn) decoded: none is a broken image.
    sizes = browser.execute_script(
        'return Array.from(document.images, i => i.naturalWidth)')
    cams = osp.isfile(osp.join(run_dir, 'analysis', 'cams.png'))
    # (and the shift benchmark's accuracy against severity)
    assert len(sizes) == 7 + cams and min(sizes) > 100
    page_text = browser.find_element('tag name', 'body').text
    with open(osp.join(run_dir, 'done.json')) as f:
        assert f'{json.load(f)["val_acc"]:.2f} %' in page_text
    with open(osp.join(annotated_root, 'classes.txt')) as f:
        classes = f.read().split()
    assert all(c in page_text for c in classes)


def test_grid_from_python_tracks_and_says_where_runs_stopped(annotated_root,
                                                             tmp_path):
    """``apis.run_grid`` with ``--early-stop`` and ``--vis-backend``: a run
    whose val accuracy plateaus (lr ~0, BatchNorm frozen) stops after epoch
    2 of 3, the table says so, and TensorBoard has the run's scalars."""
    import importlib.util

    from custom_modules.apis import run_grid as grid_from_python
    tensorboard = importlib.util.find_spec('tensorboard') is not None
    work_dir = str(tmp_path / 'grid')
    result = grid_from_python(
        config_dir=CONFIG_DIR, configs=SUBSET[:1], work_dir=work_dir,
        data_root=annotated_root, from_scratch=True, no_analysis=True,
        early_stop=1, vis_backend=['tensorboard'] if tensorboard else None,
        cfg_options=['train_cfg.max_epochs=3', 'optim_wrapper.optimizer.lr='
                     '1e-30', 'param_scheduler.eta_min=0',
                     'model.backbone.norm_eval=True'])
    [record] = result['records']
    assert record['stopped'] == '2 of 3 (early stop)'
    assert result['rows'][0]['stopped'] == '2 of 3 (early stop)'
    with open(result['paths']['results.md']) as f:
        header, _, row = [line.strip(' |\n').split(' | ') for line in f
                          if line.startswith('|')][:3]
    cells = dict(zip(header, row))
    assert cells['Stopped at epoch'] == '2 of 3 (early stop)'
    assert result['interrupted'] is None
    if tensorboard:  # read back with TensorBoard's own reader
        from tensorboard.backend.event_processing.event_accumulator import (
            EventAccumulator,
        )
        [vis_data] = glob.glob(osp.join(record['run_dir'], '*', 'vis_data'))
        events = EventAccumulator(vis_data)
        events.Reload()
        assert [e.step for e in events.Scalars('accuracy/top1')] == [1, 2]
