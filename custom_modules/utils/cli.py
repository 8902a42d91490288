"""How every tool reports a user's mistake: one line, no traceback."""
import gc
import os
import sys

from .errors import UserInputError


def run_cli(main, argv=None):
    """Run ``main(argv)``; print a :class:`UserInputError` and exit 2.

    Tools draw PNGs, never windows: matplotlib's backend defaults to Agg
    here, the one place that sets it (``MPLBACKEND`` still overrides).
    In a tool's own process (``argv`` None) what its imports made lives
    until exit: frozen, the garbage collections (mmengine's at each dataset
    it builds, ~0.3 s each) skip it.
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
