"""The version of gridsim, written into every output it makes."""

__version__ = "0.1.0"
