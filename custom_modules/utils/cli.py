"""How every tool reports a user's mistake: one line, no traceback."""
import os
import sys

from .errors import UserInputError


def run_cli(main, argv=None):
    """Run ``main(argv)``; print a :class:`UserInputError` and exit 2.

    Tools draw PNGs, never windows: matplotlib's backend defaults to Agg
    here, the one place that sets it (``MPLBACKEND`` still overrides).
    """
    os.environ.setdefault('MPLBACKEND', 'Agg')
    try:
        result = main(argv)
    except UserInputError as err:
        print(f'error: {err}', file=sys.stderr)
        sys.exit(2)
    sys.exit(result if isinstance(result, int) else 0)
