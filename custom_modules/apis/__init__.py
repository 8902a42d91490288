"""Code the command-line tools share; ``tools/*.py`` are thin wrappers.

Nothing here is registered, and this file imports nothing, so a tool pulls
in torch and mmengine only when it needs them.
"""
