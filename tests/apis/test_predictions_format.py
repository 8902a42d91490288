"""Predictions for the analysis are JSON; a pickle is never opened."""
import json
import os.path as osp

import pytest
from conftest import plant_pickle

from custom_modules.evaluation.predictions import analyze
from custom_modules.utils.errors import UserInputError


def test_planted_pickle_is_refused_unopened(tmp_path):
    path = str(tmp_path / 'val_predictions.pkl')
    marker = plant_pickle(path)
    with pytest.raises(UserInputError, match='--out preds.json'):
        analyze(path, out_dir=str(tmp_path / 'out'))
    assert not osp.exists(marker)


def test_analysis_from_json(tmp_path):
    samples = [{'img_path': '', 'gt_label': i % 2,
                'pred_score': [0.9, 0.1] if i < 3 else [0.2, 0.8]}
               for i in range(4)]
    path = tmp_path / 'preds.json'
    path.write_text(json.dumps({'samples': samples}))
    _, rows, accuracy = analyze(str(path), out_dir=str(tmp_path / 'out'))
    assert accuracy == 75.0  # labels 0 1 0 1, predicted 0 0 0 1
    assert [r['support'] for r in rows] == [2, 2, 4]


def test_not_a_predictions_file_is_named(tmp_path):
    path = tmp_path / 'preds.json'
    path.write_text('{"samples": [{"gt_label": 1}]}')
    with pytest.raises(UserInputError, match='not a predictions file'):
        analyze(str(path), out_dir=str(tmp_path / 'out'))
