"""The one exception type our tools print as a plain message, not a trace."""


class UserInputError(Exception):
    """A problem in the user's input that the message tells how to fix."""


class DatasetError(UserInputError):
    """The annotation tool's refusal: bad input or an output it won't
    overwrite; the message says how to fix it."""
