"""What every command shares: one-line errors and warnings, and the interrupt."""

from __future__ import annotations

import sys


class Interrupted(Exception):
    """Ctrl-C after some output was written; the message says what was."""



def warn(message: str) -> None:
    """Print one warning line on stderr."""
    print(f"gridsim: warning: {one_line(message)}", file=sys.stderr)


def one_line(message: str) -> str:
    """Return ``message`` with line breaks escaped, so an error is always one line."""
    return message.replace("\r", "\\r").replace("\n", "\\n")


