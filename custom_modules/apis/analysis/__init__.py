"""Plots and tables drawn from a run's logs and predictions."""
