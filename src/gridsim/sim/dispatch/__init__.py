"""Dispatch layers, one behaviour per module; ``dispatcher`` wires them per incident type."""
