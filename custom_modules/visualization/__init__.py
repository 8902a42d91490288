"""Pictures drawn from a trained model (mirrors ``mmpretrain.visualization``).

Not registered, and imports nothing here: ``from .cam import ...`` pulls in
torch only when a caller wants class activation maps.
"""
