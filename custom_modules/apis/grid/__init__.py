"""The 12-run grid: :mod:`.runner` trains and tests each run,
:mod:`.results` turns the runs' logs into tables and a chart."""
