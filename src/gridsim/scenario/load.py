"""Read a scenario: TOML file -> overrides -> validation -> frozen ``Scenario``.

Every failure becomes an ``InputError`` whose one-line message names the file, the key
path and what is allowed.
"""

from __future__ import annotations

import importlib.resources
import os
import re
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from gridsim.core.errors import InputError
from gridsim.core.files import read_text
from gridsim.scenario.schema import OSM_FILE_KEYS, REPLAY_FILE_KEYS, Scenario

DEFAULT_SCENARIO = "nanjing.toml"
MAX_SCENARIO_BYTES = 100e6  # a scenario with an explicit city of a million nodes is smaller
RELATIVE_KEY = re.compile(r"[A-Za-z_][\w.\[\]]*")  # "key.path" opening a validator error


def default_scenario_text() -> str:
    """Return the text of the default scenario embedded in the package."""
    return (importlib.resources.files("gridsim") / "scenarios" / DEFAULT_SCENARIO).read_text(
        encoding="utf-8"
    )


def load_scenario(
    path: str | Path | None = None, overrides: Iterable[str] = ()
) -> Scenario:
    """Return the validated scenario at ``path`` (default: the embedded one)."""
    text, source = read_scenario_text(path)
    return parse_scenario(text, source, overrides)


def read_scenario_text(path: str | Path | None) -> tuple[str, str]:
    """Return (TOML text, name for messages) of the scenario at ``path`` or the default."""
    if path is None:
        return default_scenario_text(), f"<default {DEFAULT_SCENARIO}>"
    return read_text(path, "check the path", MAX_SCENARIO_BYTES), str(path)


def parse_scenario(
    text: str, source: str, overrides: Iterable[str] = (), base_dir: Path | None = None
) -> Scenario:
    """Return the validated scenario parsed from TOML ``text`` (``source`` names it).

    File paths in ``city.osm``, ``replay`` and ``watch_points`` are made absolute,
    relative to ``base_dir`` (default: the folder of the file ``source`` names, else the
    working directory).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: invalid TOML: {exc}") from None
    except RecursionError:
        raise InputError(f"{source}: invalid TOML: nested too deeply; flatten it") from None
    overrides = list(overrides)
    for override in overrides:
        apply_override(data, override)
    if base_dir is None:
        base_dir = Path(source).parent if Path(source).is_file() else Path.cwd()
    _resolve_paths(data, base_dir)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        message = describe_validation_error(exc)
        culprit = [o for o in overrides if message.startswith(o.partition("=")[0].strip() + ":")]
        if culprit:
            message += f" (from --set {culprit[-1]})"
        raise InputError(f"{source}: {message}") from None


def _path_sections(data: dict[str, Any]) -> list[tuple[dict[str, Any], tuple[str, ...], bool]]:
    """Return the raw scenario's sections that hold file paths, their keys, optional or not."""
    city = data.get("city")
    sections = (  # (section, its file keys, whether they are optional)
        (city.get("osm") if isinstance(city, dict) else None, OSM_FILE_KEYS, True),
        (data.get("replay"), REPLAY_FILE_KEYS, False),
        (data.get("watch_points"), ("extra_sites",), True),
    )
    return [(section, keys, optional) for section, keys, optional in sections
            if isinstance(section, dict)]


def _resolve_paths(data: dict[str, Any], base_dir: Path) -> None:
    """Make the scenario's file paths absolute (relative ones: to ``base_dir``).

    An empty path drops an optional file (``--set city.osm.KEY=""``; TOML has no null);
    the schema refuses an empty required one.
    """
    for section, keys, optional in _path_sections(data):
        for key in keys:
            value = section.get(key)
            if value == "" and optional:
                del section[key]
            elif value == "":
                continue
            elif isinstance(value, str):
                section[key] = os.path.abspath(base_dir / Path(value).expanduser())


def rebase_paths(data: dict[str, Any], from_dir: Path, to_dir: Path) -> None:
    """Rewrite the raw scenario's relative file paths (from ``from_dir``) to ``to_dir``."""
    for section, keys, _ in _path_sections(data):
        for key in keys:
            value = section.get(key)
            if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
                section[key] = os.path.relpath(from_dir / value, to_dir)


def apply_override(data: dict[str, Any], override: str) -> None:
    """Set ``key.path=value`` in the raw scenario dict (value parsed as TOML)."""
    key_path, sep, raw_value = override.partition("=")
    keys = key_path.strip().split(".")
    if not sep or not all(keys):
        raise InputError(
            f"--set {override!r}: expected key.path=value, e.g. volunteers.count=20000"
        )
    try:
        value = parse_override_value(raw_value.strip())
    except RecursionError:  # tomllib recurses once per nested array or table
        raise InputError(
            f"--set {key_path.strip()}=...: the value is nested too deeply; flatten it"
        ) from None
    node: dict[str, Any] = data
    for depth, key in enumerate(keys[:-1]):
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            where = ".".join(keys[: depth + 1])
            raise InputError(f"--set {override!r}: {where} is a value, not a table")
        node = child
    node[keys[-1]] = value


def parse_override_value(raw: str) -> Any:
    """Return ``raw`` read as a TOML value, or as a plain string if it is not one."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def describe_validation_error(exc: ValidationError, root: type[BaseModel] = Scenario) -> str:
    """Return one line for the first error: key path, problem and what is allowed.

    ``root`` is the model validated (the scenario; a call-log mapping, a targets file).
    """
    errors = exc.errors()
    first = errors[0]
    loc = tuple(first["loc"])
    path = format_key_path(loc)
    if first["type"] == "extra_forbidden":
        allowed = allowed_keys(loc[:-1], root)
        message = f"unknown key {loc[-1]!r}"
        if allowed:
            message += f"; allowed keys here: {', '.join(allowed)}"
    elif first["type"] == "missing":
        message = "required key is missing; add it"
    elif first["type"] == "value_error":
        message = first["msg"].removeprefix("Value error, ")
        sub_path, sep, rest = message.partition(": ")
        if sep and RELATIVE_KEY.fullmatch(sub_path):
            path = f"{path}.{sub_path}" if path else sub_path
            message = rest
    else:
        message = first["msg"]
        if "input" in first and not isinstance(first["input"], Mapping | list):
            message += f" (got {first['input']!r})"
    more = f" (+{len(errors) - 1} more errors)" if len(errors) > 1 else ""
    return f"{path}: {message}{more}" if path else f"{message}{more}"


def format_key_path(loc: tuple[Any, ...]) -> str:
    """Return ``('city', 'districts', 2, 'name')`` as ``city.districts[2].name``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = str(part) if RELATIVE_KEY.fullmatch(str(part)) else repr(str(part))
            text += f".{name}" if text else name
    return text


def allowed_keys(loc: tuple[Any, ...], root: type[BaseModel] = Scenario) -> list[str]:
    """Return the field names of the model found at ``loc`` under ``root``, if a model."""
    current: Any = root
    for part in loc:
        current = _unwrap_optional(current)
        origin = typing.get_origin(current)
        if origin in (list, tuple):
            current = typing.get_args(current)[0]  # part is a list index
        elif origin is dict:
            current = typing.get_args(current)[1]  # part is a table key
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = field.annotation
        else:
            return []
    current = _unwrap_optional(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(current.model_fields)
    return []


def _unwrap_optional(annotation: Any) -> Any:
    """Return ``X`` for ``X | None``, else ``annotation`` unchanged."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation
