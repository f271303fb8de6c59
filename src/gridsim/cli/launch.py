"""The ``gridsim`` console script: start the command line, answering Ctrl-C at any moment.

This module imports nothing heavy, so an interrupt while numpy, scipy and simpy load is
answered with one line (exit 130) instead of a traceback.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import NoReturn

EXIT_INTERRUPTED = 130


def entry_point() -> NoReturn:
    """Run ``gridsim.cli.main.main`` and exit with its code (130 when interrupted)."""
    # figures are drawn off screen: a non-interactive backend, chosen here, at the entry
    # (the library itself never picks one, so notebooks keep theirs)
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        from gridsim.cli.main import main

        code = main()
    except KeyboardInterrupt:
        # an interrupt while the interpreter is half-way through imports can surface
        # again as it shuts down (and kill it with SIGINT): say it once and leave now
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("gridsim: interrupted before any work began; nothing was written",
              file=sys.stderr, flush=True)
        os._exit(EXIT_INTERRUPTED)
    # the command has finished and said what it wrote: a late Ctrl-C must not turn a
    # finished run into a silent exit 130 while Python shuts down
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)
