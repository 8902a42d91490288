"""CSV cells a spreadsheet would run as formulas are written as text
(issue 20 #14), and an interrupted grid writes the table of the runs that
finished (#15)."""
import csv
import json
import os.path as osp

import pytest
from conftest import load_tool

from custom_modules.apis.grid import runner
from custom_modules.apis.grid.results import write_results
from custom_modules.apis.inference import write_results as write_infer
from custom_modules.evaluation.predictions import analyze

PAYLOADS = ['=cmd|" /C calc"!A0', '+1+1', '-2+3', '@SUM(A1:A2)',
            '\t=1+1', '\r=1+1']
grid_main = load_tool('tools/run_grid.py').main


def cells(path):
    with open(path, newline='', encoding='utf-8') as f:
        return [c for row in csv.reader(f) for c in row]


def assert_neutralised(path, payloads=PAYLOADS):
    found = cells(path)
    for payload in payloads:
        assert "'" + payload in found, (payload, found)
        assert payload not in found


def test_per_class_csv(tmp_path):
    preds = tmp_path / 'preds.json'
    preds.write_text(json.dumps({'samples': [
        {'img_path': f'{i}.jpg', 'gt_label': i % 6,
         'pred_score': [1.0 if j == i % 6 else 0.0 for j in range(6)]}
        for i in range(12)]}))
    classes = tmp_path / 'classes.txt'
    # (a name's leading tab or CR is stripped when classes.txt is read)
    classes.write_text('\n'.join(PAYLOADS[:4] + ['a', 'b']) + '\n')
    out, _, _ = analyze(str(preds), str(classes), str(tmp_path / 'out'))
    assert_neutralised(out['per_class.csv'], PAYLOADS[:4])


def test_infer_csv(tmp_path):
    results = [{'path': p, 'unknown': False, 'predictions': [
        {'class': p, 'label': 0, 'score': 0.9}]} for p in PAYLOADS]
    out = str(tmp_path / 'r.csv')
    write_infer(results, out)
    assert_neutralised(out)
    assert '0.900000' in cells(out)  # numbers stay numbers


def test_grid_results_csv(tmp_path):
    records = [dict(model=p, frozen_stages='2', augmentation='fixed',
                    config=f'{p}.py', seed=None, precision='fp32',
                    val_acc=50.0, train_acc=60.0, best_epoch=1)
               for p in PAYLOADS[:4]]
    records.append(dict(records[0], config='x.py', model='x', val_acc=None,
                        failed='-1+1 failed'))
    paths, _ = write_results(str(tmp_path), records)
    assert_neutralised(paths['results.csv'], PAYLOADS[:4] + ['-1+1 failed'])


@pytest.mark.parametrize('stop', [KeyboardInterrupt(), SystemExit(130)])
def test_an_interrupted_grid_writes_the_finished_runs_table(
        tmp_path, monkeypatch, capsys, stop):
    """SIGINT during a child raises SystemExit(130) (run_child), elsewhere
    KeyboardInterrupt: either way the finished run is in the table."""
    configs = tmp_path / 'configs'
    configs.mkdir()
    for name in ('a_freeze2_fixed', 'b_freeze2_fixed'):
        (configs / f'{name}.py').write_text('')

    def train_run(self, config, seed, log):
        if 'b_' in config:
            raise stop
        return self.record(config, seed, val_acc=42.0, train_acc=50.0,
                           best_epoch=1, precision='fp32')
    monkeypatch.setattr(runner.Grid, 'train_run', train_run)
    work_dir = str(tmp_path / 'grid')
    code = grid_main(['--config-dir', str(configs), '--work-dir', work_dir,
                      '--no-analysis'])
    assert code == 130
    with open(osp.join(work_dir, 'results.csv')) as f:
        rows = list(csv.DictReader(f))
    assert [r['model'] for r in rows] == ['a'] and rows[0]['val_acc'] == '42.0'
    assert 'interrupted' in capsys.readouterr().out
