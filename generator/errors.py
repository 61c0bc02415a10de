"""Errors that the CLI turns into one line and exit code 2."""


class PsetError(Exception):
    """Bad input or a generation that could not succeed; the message is one line."""


class GenerationError(PsetError):
    """No draw met the rules within the attempt budget."""
