"""Capture and restore every random-number stream a training step draws
from (mmengine seeds again on resume); loadable with weights_only=True."""
import random

import numpy as np
import torch


def capture_rng_state():
    """The current state of every global generator, as a dict."""
    state = dict(torch=torch.get_rng_state(), numpy=np.random.get_state(),
                 python=random.getstate())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state):
    """Put back what :func:`capture_rng_state` returned."""
    torch.set_rng_state(state['torch'])
    np.random.set_state(tuple(state['numpy']))
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])
