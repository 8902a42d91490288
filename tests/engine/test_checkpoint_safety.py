"""Runner checkpoints load under weights_only=True; hostile pickles do not."""
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import custom_modules.engine  # noqa: F401


def test_message_hub_state_round_trips(tmp_path):
    hub = MessageHub.get_instance('safety-test')
    hub.update_scalar('train/loss', np.float64(0.5))
    hub.update_scalar('train/loss', 0.25)
    hub.update_info('eta', np.float64(3.0))
    path = tmp_path / 'ckpt.pth'
    torch.save({'message_hub': hub.state_dict(),
                'meta': {'seed': np.int64(3)}}, path)
    # Without our allow-list (a fresh interpreter), torch refuses the file.
    plain = subprocess.run(
        [sys.executable, '-c', f'import torch; torch.load({str(path)!r})'],
        capture_output=True, text=True)
    assert plain.returncode != 0
    assert 'HistoryBuffer' in plain.stderr or 'numpy' in plain.stderr
    loaded = torch.load(path, weights_only=True)
    buffer = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.mean() == pytest.approx(0.375)
    assert loaded['message_hub']['runtime_info']['eta'] == 3.0


class _ReachesPastTheAllowList:
    def __reduce__(self):
        return getattr, (HistoryBuffer, '__init__')


class _RunsACommand:
    def __reduce__(self):
        return os.system, ('echo pwned > /dev/null', )


def test_getattr_stand_in_only_resolves_statistics(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'x': _ReachesPastTheAllowList()}, path)
    with pytest.raises(pickle.UnpicklingError, match='statistics'):
        torch.load(path, weights_only=True)


def test_arbitrary_callables_stay_blocked(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'x': _RunsACommand()}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
