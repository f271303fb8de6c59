"""Write the runnable scenario of a fit: the city's file, the fitted incidents and fleets.

``gridsim calls fit --scenario CITY`` writes ``scenario.toml``: the city scenario's own
tables (comments kept, file paths rebased so they resolve from the new file's folder,
incident types the log has no call of kept as they are), then the fitted
``[incidents.*]`` (their responders the unit fleets when the log has unit rows with unit
types) and the fitted ``[fleets.*]`` and ``[unit_dispatch]``. It is checked by loading it
before it is written.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import tomlkit

from gridsim.scenario.load import parse_scenario, rebase_paths

INLINE_KEYS = {"turnout_s", "on_scene_s", "dispatch_lag_s", "units", "units_by_station",
               "residual"}
FITTED_RESPONDERS = ('responders = ["units"]  # FITTED: the unit fleets below answer the '
                     "log's calls")


def rebased_text(text: str, from_dir: Path, to_dir: Path) -> str:
    """Return scenario TOML ``text`` with its relative paths rebased from one folder to another."""
    document = tomlkit.parse(text)
    _rebase(document, from_dir, to_dir)
    return tomlkit.dumps(document)


def _rebase(document: Any, from_dir: Path, to_dir: Path) -> None:
    """Rewrite the relative file paths of a parsed scenario in place (comments kept)."""
    rebase_paths(document, from_dir.resolve(), to_dir.resolve())  # its tables are dicts


def fitted_scenario_text(city_text: str, city_source: str, out_dir: Path, incidents_text: str,
                         fleets: dict[str, Any] | None, header: list[str]) -> str:
    """Return the TOML of the runnable scenario; raise ``InputError`` if it does not load."""
    document = tomlkit.parse(city_text)
    fitted = set(re.findall(r"^\[incidents\.([^\]]+)\]", incidents_text, flags=re.M))
    kept = document.get("incidents")
    if kept is not None:  # the city's types the log has no call of stay as they are
        for name in [n for n in kept if n in fitted or f'"{n}"' in fitted]:
            del kept[name]
        if not kept:
            del document["incidents"]
    incidents_text, police = _split_police(incidents_text)
    if police is not None and fleets is None:  # the fitted handling is the police's
        table = document.setdefault("police", tomlkit.table())
        table["dispatch_delay_s_by_priority"] = police
    _rebase(document, Path(city_source).parent, out_dir)
    parts = ["\n".join(f"# {line}" for line in header), tomlkit.dumps(document).strip()]
    incidents = incidents_text
    if fleets is not None:
        incidents = re.sub(r"^responders = .*$", FITTED_RESPONDERS, incidents, flags=re.M)
        incidents = re.sub(r"^# from .*:\n(?=responders)", "", incidents, flags=re.M)
    parts.append(_without_header(incidents).strip())
    if fleets is not None:
        parts.append(_fleet_tables(fleets))
    text = "\n\n".join(parts) + "\n"
    parse_scenario(text, str(out_dir / "scenario.toml"), base_dir=out_dir)
    return text


def _split_police(incidents_text: str) -> tuple[str, list[float] | None]:
    """Return the incidents TOML without its trailing handling block, and that block's delays."""
    start = incidents_text.find("\n# Call handling")
    if start < 0:
        return incidents_text, None
    block = tomlkit.parse(incidents_text[start:])
    police = block.get("police", {}).get("dispatch_delay_s_by_priority")
    return incidents_text[:start] + "\n", (list(police) if police is not None else None)


def _without_header(incidents_text: str) -> str:
    """Return the incidents TOML without its leading comment block (the header says it)."""
    lines = incidents_text.splitlines()
    start = next((k for k, line in enumerate(lines) if line.startswith("[")), len(lines))
    return "\n".join(lines[start:])


def _fleet_tables(fit: dict[str, Any]) -> str:
    """Return the ``[fleets.*]`` and ``[unit_dispatch]`` tables of a fleet fit."""
    document = tomlkit.document()
    document.add(tomlkit.comment("FITTED by gridsim calls fit: every unit type of the log is a "
                                 "fleet; fit.json has the rows behind each figure"))
    fleets = tomlkit.table(is_super_table=True)
    for name, fleet in fit["fleets"].items():
        fleets.add(name, _table({k: v for k, v in fleet.items() if k != "counts"}))
    document.add("fleets", fleets)
    document.add("unit_dispatch", _table(fit["unit_dispatch"]))
    return tomlkit.dumps(document).strip()


def _table(values: dict[str, Any]) -> Any:
    """Return ``values`` as a TOML table, the small leaf tables inline."""
    table = tomlkit.table()
    for key, value in values.items():
        table.add(key, _item(key, value))
    return table


def _item(key: str, value: Any) -> Any:
    if isinstance(value, dict):
        if key in INLINE_KEYS or _is_distribution(value):
            inline = tomlkit.inline_table()
            inline.update({k: _item(k, v) for k, v in value.items()})
            return inline
        return _table(value)
    if isinstance(value, list) and value and isinstance(value[0], dict):
        array = tomlkit.aot()
        for entry in value:
            array.append(_table(entry))
        return array
    return value


def _is_distribution(value: dict[str, Any]) -> bool:
    return "dist" in value or ("p" in value and "values" in value) or "overhead_s" in value
