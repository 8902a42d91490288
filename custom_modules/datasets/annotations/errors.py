"""The annotation tool's error: bad input or refused output."""
from custom_modules.utils.errors import UserInputError


class DatasetError(UserInputError):
    """Bad input or refused output; the message says how to fix it."""
