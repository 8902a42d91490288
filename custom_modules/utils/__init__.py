"""The bottom layer: small helpers that import nothing else of ours."""
