"""``python -m gridsim.cli``: the same as the ``gridsim`` command."""

from gridsim.cli.launch import entry_point

entry_point()
