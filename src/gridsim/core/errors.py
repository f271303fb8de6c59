"""The exception types for bad user input and for outputs that could not be written."""

from __future__ import annotations


class InputError(Exception):
    """Bad user input; its message is one line: what, where, how to fix.

    The CLI prints the message and exits with code 2, never a traceback.
    """


class OutputError(InputError):
    """An output the system refused to take (disk full, read-only, quota): one line, exit 2.

    The message names what was not written and what was kept.
    """
