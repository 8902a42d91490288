"""Grad-CAM pictures (:mod:`.cam`) and the MLflow backend
(:mod:`.vis_backends`); imports nothing, so neither loads unasked."""
