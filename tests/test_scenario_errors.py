"""Bad input of every kind: one line on stderr, exit code 2, no traceback, no results.

The contract: ``gridsim validate FILE`` and ``gridsim run FILE`` print exactly one line
``gridsim: error: <file>: <key.path>: <what is allowed / how to fix>`` and exit with 2.
Each file in ``tests/bad_scenarios`` is ``scenarios/small.toml`` with one change; its first
line ``# expect: <substring>`` names what the error line must contain.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from gridsim.cli.main import main
from gridsim.core.errors import InputError
from gridsim.scenario.load import (
    apply_override,
    format_key_path,
    load_scenario,
    parse_override_value,
)

ROOT = Path(__file__).resolve().parents[1]
BAD_DIR = Path(__file__).resolve().parent / "bad_scenarios"
SMALL = ROOT / "scenarios" / "small.toml"
NANJING = ROOT / "scenarios" / "nanjing.toml"
PREFIX = "gridsim: error: "
EXIT_BAD_INPUT = 2

BAD_FILES = sorted(BAD_DIR.glob("*.toml"))

# Bad files whose error line breaks the contract today (bugs in src/, reported, not fixed).
def expected_substring(path: Path) -> str:
    """Return the ``# expect:`` substring from the first line of a bad scenario."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name}: first line must be '# expect: ...'"
    return first.removeprefix("# expect: ").strip()


def bad_params() -> list[object]:
    params = []
    for path in BAD_FILES:
        params.append(pytest.param(path, id=path.stem))
    return params


def call(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors exit from inside parse_args
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    """Check exit code 2 and exactly one ``gridsim: error:`` line holding every needle."""
    assert "Traceback" not in err
    assert code == EXIT_BAD_INPUT, err
    assert err.endswith("\n") and err.count("\n") == 1, f"not exactly one line: {err!r}"
    assert err.startswith(PREFIX), err
    for needle in needles:
        assert needle in err, f"{needle!r} missing from {err!r}"


# --- the folder of bad scenarios -------------------------------------------------------


def test_bad_scenario_folder_has_at_least_12_files() -> None:
    assert len(BAD_FILES) >= 12


@pytest.mark.parametrize("path", BAD_FILES, ids=[p.stem for p in BAD_FILES])
def test_bad_scenario_has_expect_line(path: Path) -> None:
    assert expected_substring(path)


@pytest.mark.parametrize("path", bad_params())
def test_validate_bad_scenario(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = call(["validate", str(path)], capsys)
    assert_one_line_error(code, err, path.name, expected_substring(path))
    assert out == ""


@pytest.mark.parametrize("path", bad_params())
def test_run_bad_scenario_writes_nothing(
    path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # a default results/ folder would land here
    out_dir = tmp_path / "x"
    code, _, err = call(["run", str(path), "--out", str(out_dir), "--quiet"], capsys)
    assert_one_line_error(code, err, path.name, expected_substring(path))
    assert not out_dir.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", [SMALL, NANJING], ids=["small", "nanjing"])
def test_good_scenarios_validate(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = call(["validate", str(path)], capsys)
    assert code == 0, err
    assert err == ""
    assert out.startswith(f"{path}: ok")


def test_validate_several_files_stops_at_the_bad_one(capsys: pytest.CaptureFixture[str]) -> None:
    bad = BAD_DIR / "negative_count.toml"
    code, out, err = call(["validate", str(SMALL), str(bad)], capsys)
    assert_one_line_error(code, err, bad.name, "volunteers.count")
    assert out.startswith(f"{SMALL}: ok")


def test_subprocess_validate_bad_scenario() -> None:
    """The real process (``python -m gridsim.cli``): exit 2, one line, no traceback."""
    bad = BAD_DIR / "unknown_responder.toml"
    proc = subprocess.run(
        [sys.executable, "-m", "gridsim.cli", "validate", str(bad)],
        capture_output=True, text=True, timeout=60,
    )
    assert_one_line_error(proc.returncode, proc.stderr, bad.name, expected_substring(bad))


# --- files that cannot be read ---------------------------------------------------------


@pytest.mark.parametrize("command", ["validate", "run"])
def test_missing_file(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no_such_scenario.toml"
    argv = [command, str(missing)]
    if command == "run":
        argv += ["--out", str(tmp_path / "x")]
    code, _, err = call(argv, capsys)
    assert_one_line_error(code, err, "no_such_scenario.toml", "file not found")
    assert not (tmp_path / "x").exists()


def test_directory_instead_of_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = call(["validate", str(tmp_path)], capsys)
    assert_one_line_error(code, err, str(tmp_path), "is a folder, not a regular file")


def test_file_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(SMALL.read_bytes().replace(b'"Old Town"', b'"\xd6ld Town"'))
    code, _, err = call(["validate", str(path)], capsys)
    assert_one_line_error(code, err, path.name, "cannot read file")


def test_deeply_nested_toml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "deep.toml"
    depth = 5000
    path.write_text(f"x = {'[' * depth}1{']' * depth}\n" + SMALL.read_text(), encoding="utf-8")
    code, _, err = call(["validate", str(path)], capsys)
    assert_one_line_error(code, err, path.name)


# --- --set overrides ---------------------------------------------------------------------


@pytest.mark.parametrize("command", ["validate", "run"])
def test_set_without_equals(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [command, str(SMALL), "--set", "volunteers.count"]
    if command == "run":
        argv += ["--out", str(tmp_path / "x")]
    code, _, err = call(argv, capsys)
    assert_one_line_error(code, err, "--set", "volunteers.count", "key.path=value")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("override", ["=5", "volunteers..count=5", ".count=5"])
def test_set_with_empty_key(override: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = call(["validate", str(SMALL), "--set", override], capsys)
    assert_one_line_error(code, err, "--set", "key.path=value")


def test_set_through_a_value(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = call(["validate", str(SMALL), "--set", "name.x=1"], capsys)
    assert_one_line_error(code, err, "--set", "name is a value, not a table")


@pytest.mark.parametrize("command", ["validate", "run"])
def test_set_negative_count_names_set(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [command, str(SMALL), "--set", "volunteers.count=-1"]
    if command == "run":
        argv += ["--out", str(tmp_path / "x")]
    code, _, err = call(argv, capsys)
    assert_one_line_error(
        code, err, SMALL.name, "volunteers.count", "--set volunteers.count=-1"
    )
    assert not (tmp_path / "x").exists()


def test_set_unknown_key(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = call(["validate", str(SMALL), "--set", "volunteers.cuont=5"], capsys)
    assert_one_line_error(
        code, err, SMALL.name, "volunteers.cuont", "unknown key", "count", "--set"
    )


def test_set_wrong_type(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = call(["validate", str(SMALL), "--set", "police.patrol_units=many"], capsys)
    assert_one_line_error(code, err, SMALL.name, "police.patrol_units", "--set")


def test_set_good_value_validates(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = call(["validate", str(SMALL), "--set", "volunteers.count=20"], capsys)
    assert code == 0, err
    assert out.startswith(f"{SMALL}: ok")


def test_set_value_with_newline(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = call(["validate", str(SMALL), "--set", "name=a\nb"], capsys)
    assert_one_line_error(code, err, SMALL.name, "name", "--set")


# --- command-line syntax --------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", "SMALL", "--bogus"],
        ["run", "SMALL", "--bogus"],
        ["--bogus"],
        [],
        ["simulate", "SMALL"],
        ["validate"],
        ["run", "SMALL", "--seed", "abc"],
        ["validate", "SMALL", "--set"],
    ],
    ids=["validate-flag", "run-flag", "top-flag", "no-command", "unknown-command",
         "validate-no-file", "bad-seed", "set-no-value"],
)
def test_bad_command_line(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = [str(SMALL) if a == "SMALL" else a for a in argv]
    code, out, err = call(argv, capsys)
    assert_one_line_error(code, err, "--help")
    assert out == ""
    assert list(tmp_path.iterdir()) == []


def test_unknown_flag_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = call(["validate", str(SMALL), "--bogus"], capsys)
    assert_one_line_error(code, err, "--bogus")


# --- parse_override_value / apply_override --------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5", 5),
        ("-1", -1),
        ("20_000", 20000),
        ("0.5", 0.5),
        ("1e3", 1000.0),
        ("-2.5", -2.5),
        ("true", True),
        ("false", False),
        ("[1, 2, 3]", [1, 2, 3]),
        ('["dispute", "theft"]', ["dispute", "theft"]),
        ("[]", []),
        ("{ start_h = 8, length_h = 10 }", {"start_h": 8, "length_h": 10}),
        ('"quoted"', "quoted"),
        ("walk", "walk"),
        ("Old Town", "Old Town"),
        ("", ""),
    ],
)
def test_parse_override_value(raw: str, expected: object) -> None:
    value = parse_override_value(raw)
    assert value == expected
    assert type(value) is type(expected)


def test_apply_override_sets_existing_value() -> None:
    data = {"volunteers": {"count": 3000, "acceptance_prob": 0.3}}
    apply_override(data, "volunteers.count=20000")
    assert data == {"volunteers": {"count": 20000, "acceptance_prob": 0.3}}


def test_apply_override_creates_tables() -> None:
    data: dict[str, object] = {"name": "x"}
    apply_override(data, "incidents.theft.on_scene_s.mean_s = 60.5")
    assert data == {"name": "x", "incidents": {"theft": {"on_scene_s": {"mean_s": 60.5}}}}


def test_apply_override_parses_values() -> None:
    data: dict[str, object] = {}
    apply_override(data, "a=true")
    apply_override(data, "b=[0.1, 0.2]")
    apply_override(data, "c=walk")
    apply_override(data, "d=x=y")  # only the first '=' splits
    assert data == {"a": True, "b": [0.1, 0.2], "c": "walk", "d": "x=y"}


@pytest.mark.parametrize("override", ["volunteers.count", "=1", "a..b=1", "a.=1", ""])
def test_apply_override_rejects_bad_syntax(override: str) -> None:
    with pytest.raises(InputError, match="--set") as info:
        apply_override({}, override)
    assert "\n" not in str(info.value)


def test_apply_override_rejects_path_through_value() -> None:
    data = {"name": "small", "city": {"districts": [{"name": "A"}]}}
    with pytest.raises(InputError, match="name is a value, not a table"):
        apply_override(data, "name.x=1")
    with pytest.raises(InputError, match="city.districts is a value"):
        apply_override(data, "city.districts.name=B")
    assert data == {"name": "small", "city": {"districts": [{"name": "A"}]}}


# --- format_key_path -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        ((), ""),
        (("name",), "name"),
        (("volunteers", "count"), "volunteers.count"),
        (("city", "districts", 2, "name"), "city.districts[2].name"),
        (("incidents", "theft", "hourly_profile", 23), "incidents.theft.hourly_profile[23]"),
        (("city", "river_lat_lon", 1, 0), "city.river_lat_lon[1][0]"),
        ((0,), "[0]"),
    ],
)
def test_format_key_path(loc: tuple[object, ...], expected: str) -> None:
    assert format_key_path(loc) == expected


# --- load_scenario ---------------------------------------------------------------------


def test_load_scenario_is_frozen() -> None:
    scenario = load_scenario(SMALL)
    with pytest.raises(ValidationError):
        scenario.name = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        scenario.volunteers.count = 1  # type: ignore[misc]
    with pytest.raises(ValidationError):
        scenario.city.districts[0].population = 1  # type: ignore[misc]
    assert scenario.name == "small"
    assert scenario.volunteers.count == 3000


def test_load_scenario_applies_overrides() -> None:
    scenario = load_scenario(SMALL, ["volunteers.count=20", "dispatch.grid_radius_m=1500.0"])
    assert scenario.volunteers.count == 20
    assert scenario.dispatch.grid_radius_m == 1500.0


def test_load_scenario_errors_are_input_errors() -> None:
    with pytest.raises(InputError) as info:
        load_scenario(BAD_DIR / "negative_count.toml")
    message = str(info.value)
    assert message.startswith(str(BAD_DIR / "negative_count.toml") + ": volunteers.count: ")
    assert "\n" not in message
