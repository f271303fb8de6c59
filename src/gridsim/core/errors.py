"""The one exception type for bad user input (scenario, CSV, CLI flag)."""

from __future__ import annotations


class InputError(Exception):
    """Bad user input; its message is one line: what, where, how to fix.

    The CLI prints the message and exits with code 2, never a traceback.
    """
