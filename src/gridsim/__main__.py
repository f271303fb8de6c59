"""``python -m gridsim``: the same as the ``gridsim`` command."""

from gridsim.launch import entry_point

entry_point()
