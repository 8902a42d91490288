"""``<checkpoint>.calibration.json`` is checked before it is used."""
import json

import pytest

from custom_modules.evaluation.calibration import read_calibration
from custom_modules.utils.errors import UserInputError


def write(tmp_path, **fields):
    ckpt = tmp_path / 'best.pth'
    (tmp_path / 'best.pth.calibration.json').write_text(json.dumps(fields))
    return str(ckpt)


def test_valid_file_is_read(tmp_path):
    calibration = read_calibration(write(tmp_path, temperature=1.5,
                                         threshold=0.7))
    assert calibration['temperature'] == 1.5
    assert calibration['threshold'] == 0.7
    # Written before the reject score was stored: the top probability.
    assert calibration['score'] == 'max_softmax'


def test_energy_file_is_read_with_its_threshold_on_the_energy_scale(
        tmp_path):
    calibration = read_calibration(write(tmp_path, score='energy',
                                         temperature=1.5, threshold=7.25))
    assert (calibration['score'], calibration['threshold']) == ('energy',
                                                                7.25)


def test_no_file_means_no_calibration(tmp_path):
    assert read_calibration(str(tmp_path / 'best.pth')) is None


@pytest.mark.parametrize('fields, named', [
    (dict(temperature=0), 'temperature=0.0'),
    (dict(temperature=1.0, threshold=1.5), 'threshold=1.5'),
    (dict(temperature=1.0, threshold=-0.1), 'threshold=-0.1'),
    (dict(threshold=0.5), 'temperature'),
    (dict(temperature=1.0, threshold=0.5, score='entropy'), 'entropy'),
    (dict(temperature=1.0, threshold=float('nan'), score='energy'),
     'threshold=nan'),
])
def test_bad_values_are_named(tmp_path, fields, named):
    with pytest.raises(UserInputError, match=named) as err:
        read_calibration(write(tmp_path, **fields))
    assert 'calibration.json' in str(err.value)
