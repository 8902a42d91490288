"""Pictures drawn from a trained model (mirrors ``mmpretrain.visualization``)
and where a run's pictures and metrics go.

Imports nothing here: ``from .cam import ...`` pulls in torch only when a
caller wants class activation maps; ``.vis_backends`` registers the MLflow
backend of ``--vis-backend mlflow`` when the tools import it.
"""
