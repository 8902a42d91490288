"""``report.html`` for a run or a grid (``tools/analysis/make_report.py``)."""
import os.path as osp

from custom_modules.utils.errors import UserInputError

from .grid.results import finished_runs, write_grid_report
from .run_report import write_run_report


def make_report(folder, predictions=None, force=False):
    """Write the page of a run, or of a grid and the pages its runs lack.

    Args:
        folder (str): a run's work dir, or a grid's (it holds results.md).
        predictions (str, optional): a run's tools/test.py ``--out`` file.
        force (bool): replace existing pages (for a grid, all its runs' too).

    Returns:
        list: ``(path, [(missing part, command that makes it)])`` per page.
    """
    if not osp.isdir(folder):
        raise UserInputError(f'{folder} is not a folder; give a run\'s or a '
                             'grid\'s work dir.')
    if not osp.isfile(osp.join(folder, 'results.md')):
        return [write_run_report(folder, None, predictions, force)]
    if predictions:
        raise UserInputError('--predictions is for one run, not a grid.')
    return [write_run_report(run_dir, force=force)
            for run_dir, _ in finished_runs(folder)
            if force or not osp.isfile(osp.join(run_dir, 'report.html'))
            ] + [write_grid_report(folder, force=force)]
