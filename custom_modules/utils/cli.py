"""How every tool reports a user's mistake, and the flags many tools share."""
import gc
import os
import sys

from .errors import UserInputError


def run_cli(main, argv=None):
    """Run ``main(argv)``; print a :class:`UserInputError` and exit 2.

    Sets matplotlib's backend to Agg unless ``MPLBACKEND`` says otherwise
    (tools draw PNGs, never windows). In a tool's own process (``argv``
    None) what its imports made is frozen out of the garbage collections
    (mmengine's at each dataset it builds, ~0.3 s each).
    """
    os.environ.setdefault('MPLBACKEND', 'Agg')
    if argv is None:
        gc.freeze()
    try:
        result = main(argv)
    except UserInputError as err:
        print(f'error: {err}', file=sys.stderr)
        sys.exit(2)
    sys.exit(result if isinstance(result, int) else 0)


def add_force(parser, what):
    """``--force``: replace ``what``, e.g. ``'an existing PNG'``."""
    parser.add_argument('--force', action='store_true', help=f'replace {what}')


def add_data_root(parser):
    """``--data-root``: the annotation folder instead of the config's."""
    parser.add_argument('--data-root', help='folder with classes.txt and the '
                        'annotation files (default: the config\'s)')


def add_cfg_options(parser, example='train_cfg.max_epochs=5', help=None):
    """``--cfg-options KEY=VALUE ...`` (mmengine's DictAction)."""
    # lazy: tools/infer.py's .onnx path runs without mmengine
    from mmengine.config import DictAction
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help=help or f'override config entries, e.g. {example}')
