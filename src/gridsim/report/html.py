"""One self-contained HTML page per results folder: figures embedded, no network needed."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gridsim.core.output import GENERATOR, write_marked
from gridsim.report.coverage_figure import ring_coverage_map
from gridsim.report.figures import (
    alerts_histogram,
    by_hour,
    district_map,
    png_bytes,
    response_cdf,
)
from gridsim.report.replay_figure import replay_figure
from gridsim.report.results import Results
from gridsim.world.build import World

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
h1 { margin-bottom: 0.2em; } .meta { color: #555; }
table { border-collapse: collapse; margin: 0.8em 0 1.6em; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
"""


def write_report(results: Results, world: World, out: Path, run_time_s: float | None,
                 fix: str = "move it away, then run again") -> Path:
    """Write the HTML report of ``results`` to ``out`` atomically; return ``out``.

    A file at ``out`` that gridsim did not write is refused with ``fix`` as the advice.
    """
    write_marked(out, render(results, world, run_time_s).encode("utf-8"), fix)
    return out


def render(results: Results, world: World, run_time_s: float | None) -> str:
    """Return the report page as HTML text."""
    s = results.summary
    scenario = results.scenario
    figures = [
        ("Response time by responder kind", response_cdf(results)),
        ("p90 time to first arrival by district", district_map(results, world)),
        *([("Ring coverage by cell: share of incidents reached within each ring",
            ring_coverage_map(results.coverage, world))] if results.coverage is not None
          else []),
        ("Incidents and busy police units by hour of day", by_hour(results)),
        ("Volunteer alerts per volunteer", alerts_histogram(results)),
    ]
    run_time = "not recorded (run with gridsim run --report)" if run_time_s is None else (
        f"{run_time_s:.1f} s")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f'<meta name="generator" content="{_e(GENERATOR)}">',
        f"<title>gridsim report: {_e(scenario.name)}</title><style>{STYLE}</style></head><body>",
        f"<h1>gridsim report: {_e(scenario.name)}</h1>",
        f"<p class='meta'>{_e(scenario.description)}</p>",
        _table(["", ""], [
            ["scenario", scenario.name],
            ["scenario SHA-256", s["scenario_sha256"][:16] + "…"],
            ["seed", s["seed"]],
            ["simulated days", f"{scenario.duration_days:g}"],
            ["run time", run_time],
            ["gridsim", s["gridsim_version"]],
            ["incidents", f"{s['incidents']:,}"],
            ["reached by someone", f"{s['answered']:,}"],
            ["volunteer or grid worker before police", _pct(s["local_before_police_share"])],
            ["patrol utilisation", _pct(s["patrol_utilisation"])],
            ["community police utilisation", _pct(s["community_police_utilisation"])],
            ["mediator utilisation", _pct(s["mediator_utilisation"])],
        ]),
        "<h2>Response time from the call (minutes)</h2>",
        _table(["", "n", "p50", "p90", "p95", "p90 95% CI"], [
            _stat_row(label, s[key]) for label, key in
            (("first arrival", "first_arrival_s"), ("police arrival", "police_arrival_s"))
        ]),
        "<h2>By incident type</h2>", _group_table(s["by_type"]),
        "<h2>By district</h2>", _group_table(s["by_district"]),
        "<h2>By responder kind</h2>",
        _table(["kind", "dispatches", "incidents reached", "first on scene", "arrival p50",
                "utilisation"], [
            [kind, f"{g['dispatches']:,}", f"{g['incidents_reached']:,}",
             _pct(g["first_on_scene_share"]), _min(g["arrival_s"]["p50"]),
             _pct(g["utilisation"])]
            for kind, g in s["by_responder_kind"].items()
        ]),
        *_utilisation_by_hour(s.get("utilisation_by_hour")),
        *_equity(s.get("coverage"), results.coverage, world.district_names),
        *_replay(s.get("replay"), results.replay),
        "<h2>Figures</h2>",
    ]
    parts += [_figure(title, fig) for title, fig in figures]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _figure(title: str, fig: Any) -> str:
    data = base64.b64encode(png_bytes(fig)).decode("ascii")
    return (f"<figure><img alt='{_e(title)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{_e(title)}</figcaption></figure>")


def _replay(facts: dict[str, Any] | None, calls: dict[str, Any] | None) -> list[str]:
    """Return the recorded-vs-simulated section of a replay run (none for other runs)."""
    if facts is None or calls is None:
        return []
    mode = ("the exact replay" if facts["mode"] == "exact" else
            f"whole days resampled (log days {', '.join(map(str, facts['days_drawn']))})")
    parts = [
        "<h2>Recorded vs simulated (call-log replay)</h2>",
        f"<p>{_e(facts['log'])}: {facts['log_days']} days from {facts['first_day']} "
        f"({_e(facts['timezone'])}), {_e(mode)}. Minutes from the call; the ratio is "
        "simulated / recorded; the error is the median over calls of |simulated - "
        "recorded|. Simulated response: the first police unit (or street mediator for a "
        "mediation type) on scene.</p>",
        _table(["", ""], [
            ["calls read from the log", f"{facts['calls_read']:,}"],
            ["left out: too far from the roads", f"{facts['calls_too_far']:,}"],
            ["left out: beyond the run", f"{facts['calls_beyond_run']:,}"],
            ["replayed", f"{facts['calls_used']:,}"],
            ["on-scene time from the log / drawn",
             f"{facts['on_scene_from_log']:,} / {facts['on_scene_drawn']:,}"],
            ["rows of the log left out (summary.json: by reason)",
             f"{sum(r['rows'] for r in facts['rows_left_out'].values()):,} of "
             f"{facts['rows_read']:,}"],
        ]),
    ]
    comparison = facts.get("comparison")
    if comparison is None:
        return [*parts, "<p>The log has no on-scene times: nothing to compare.</p>"]
    header = ["", "calls", "recorded p50", "simulated p50", "ratio p50", "recorded p90",
              "simulated p90", "ratio p90", "error p50"]
    response = comparison["response_s"]
    parts += [
        "<h3>Overall</h3>",
        _table(header, [_compare_row(label, comparison[key]["overall"]) for label, key in (
            ("response (call to on scene)", "response_s"),
            ("travel (en route to on scene)", "travel_s"),
            ("handling (call to dispatch)", "handling_s"))]),
        "<h3>Response by incident type</h3>",
        _table(header, [_compare_row(k, g) for k, g in response["by_type"].items()]),
        "<h3>Response by district</h3>",
        _table(header, [_compare_row(k, g) for k, g in response["by_district"].items()]),
        "<h3>Response by hour of the call</h3>",
        _table(header, [_compare_row(f"{int(k):02d}", g)
                        for k, g in response["by_hour"].items()]),
        _figure("Recorded vs simulated response: QQ plot and each call", replay_figure(calls)),
    ]
    return parts


def _compare_row(label: str, g: dict[str, Any]) -> list[Any]:
    if g["n"] == 0:
        return [label, "0", *["-"] * 7]
    ratio = g["ratio"]
    return [label, f"{g['n']:,}", _min(g["recorded"]["p50"]), _min(g["simulated"]["p50"]),
            _ratio(ratio["p50"]), _min(g["recorded"]["p90"]), _min(g["simulated"]["p90"]),
            _ratio(ratio["p90"]), _min(g["median_abs_error_s"])]


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _equity(facts: dict[str, Any] | None, cells: dict[str, Any] | None,
            district_names: tuple[str, ...]) -> list[str]:
    """Return the coverage and equity section (none for results without coverage)."""
    if facts is None or cells is None:
        return []
    rings = [f"{r:g}" for r in facts["rings_s"]]
    unit = facts["cells"][:-1]
    parts = [
        f"<h2>Coverage and equity by {_e(unit)}</h2>",
        f"<p>{facts['cell_count']:,} {_e(facts['cells'])}; {facts['cells_rated']:,} had at "
        f"least {facts['min_incidents']} incidents and are rated by p90 "
        f"({_pct(facts['population_share_in_cells_rated'])} of residents live in them). "
        "Share of incidents reached within each ring, weighted by each cell's residents "
        "(the incident-weighted share in brackets).</p>",
        _table(["responder", *(f"within {float(r) / 60:g} min" for r in rings)], [
            [group.replace("_", " "), *(
                f"{_pct(shares[r])} ({_pct(facts['incident_share_within_s'][group][r])})"
                for r in rings)]
            for group, shares in facts["population_weighted_share_within_s"].items()
        ]),
    ]
    worst = facts.get("worst")
    if worst is None:
        return [*parts, "<p>Too few rated cells for the Gini and the worst cells; run "
                        "longer (duration_days) or use larger cells (coverage.cells).</p>"]
    lookup = {int(c): k for k, c in enumerate(cells["cell"])}
    rows = []
    for cell in worst["cells"]:
        k = lookup[cell]
        rows.append([f"{unit} {cell}", str(cells["district"][k]),
                     f"{cells['population'][k]:,.0f}", f"{cells['incidents'][k]:,}",
                     _min(cells["first_arrival_p90_s"][k]),
                     f"{_min(cells['first_arrival_p90_ci_low_s'][k])} – "
                     f"{_min(cells['first_arrival_p90_ci_high_s'][k])}"])
    who = ", ".join(f"{name} {count:,.0f}" for name, count in
                    worst["residents_by_district"].items())
    return [
        *parts,
        f"<p>Gini of the cells' p90 first arrival (population-weighted): "
        f"<b>{facts['gini_of_p90_first_arrival']:.3f}</b>. The worst "
        f"{worst['share_of_rated_cells']:.0%} of rated cells hold {worst['population']:,} "
        f"residents ({_pct(worst['population_share'])}: {_e(who)}); their p90 averages "
        f"{_min(worst['p90_first_arrival_s_mean'])} min against "
        f"{_min(worst['p90_first_arrival_s_mean_elsewhere'])} elsewhere.</p>",
        _table([unit, "district", "residents", "incidents", "first p90 (min)", "95% CI"],
               rows),
    ]


def _utilisation_by_hour(by_hour: dict[str, list[float | None]] | None) -> list[str]:
    """Return the heading and table of utilisation by hour (none for older results)."""
    if not by_hour:
        return []
    return [
        "<h2>Utilisation by hour of day (% of on-duty unit time busy)</h2>",
        _table(["fleet", *(f"{h:02d}" for h in range(24))], [
            [kind.replace("_", " "), *("-" if v is None else f"{v * 100:.0f}" for v in values)]
            for kind, values in by_hour.items()
        ]),
    ]


def _group_table(groups: dict[str, Any]) -> str:
    return _table(["", "incidents", "first p50", "first p90", "police p50", "police p90"], [
        [name, f"{g['incidents']:,}", _min(g["first_arrival_s"]["p50"]),
         _min(g["first_arrival_s"]["p90"]), _min(g["police_arrival_s"]["p50"]),
         _min(g["police_arrival_s"]["p90"])]
        for name, g in groups.items()
    ])


def _stat_row(label: str, stat: dict[str, Any]) -> list[Any]:
    ci = stat.get("p90_ci")
    ci_text = "-" if ci is None else f"{_min(ci[0])} – {_min(ci[1])}"
    return [label, f"{stat['n']:,}", _min(stat["p50"]), _min(stat["p90"]), _min(stat["p95"]),
            ci_text]


def _table(header: list[str], rows: Iterable[list[Any]]) -> str:
    head = "".join(f"<th>{_e(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(str(cell))}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _min(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60.0:.1f}"


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"


def _e(text: str) -> str:
    return html.escape(text, quote=True)
