"""The grid's Grad-CAM step: the model as ``tools/infer.py`` loads it, the
drawing from :mod:`custom_modules.visualization.cam`."""
from custom_modules.visualization.cam import draw_cams

from .config import options_dict
from .model import load_model


def run_cams(config, checkpoint, preds, out, options=(), classes_file=None,
             worst=8, per_class=2):
    """Write (or replace) ``out``, the :func:`draw_cams` grid of a run's
    ``preds``; ``options`` are its ``--cfg-options`` strings. Returns
    ``out``."""
    model = load_model(config, checkpoint, cfg_options=options_dict(options))
    return draw_cams(model, preds, out, worst, per_class,
                     classes_file=classes_file, force=True)[0]
