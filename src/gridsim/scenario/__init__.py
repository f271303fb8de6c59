"""Scenario files: schema, TOML loading and ``--set`` overrides."""

from gridsim.scenario.load import (
    apply_override,
    default_scenario_text,
    load_scenario,
    parse_scenario,
)
from gridsim.scenario.schema import Duration, IncidentType, Scenario, Shift

__all__ = [
    "Duration",
    "IncidentType",
    "Scenario",
    "Shift",
    "apply_override",
    "default_scenario_text",
    "load_scenario",
    "parse_scenario",
]
