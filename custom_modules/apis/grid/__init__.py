"""The grid of runs: :mod:`.runner` trains and tests each run,
:mod:`.results` turns the runs' logs into tables, a chart and a page."""
