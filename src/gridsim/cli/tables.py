"""Rich tables of run, sweep and search summaries for the terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from gridsim.studies.sweeps import replications_needed


def stdout_console() -> Console:
    """Return a console on stdout; 120 columns wide when it is not a terminal."""
    console = Console()
    return console if console.is_terminal else Console(width=120)


def print_sweep(summary: Any, keys: list[str], ci_width: float | None) -> None:
    """Print each arm's key metrics with CIs, and replication advice when asked."""
    rows = summary.to_pylist()
    shown = ("first_arrival_s.p50", "first_arrival_s.p90", "police_arrival_s.p90")
    table = Table(title="Sweep: mean [95% CI] over replications (seconds)")
    for column in ("arm", *keys, *shown):
        table.add_column(column, justify="right")
    advice = []
    for arm in sorted({r["arm"] for r in rows}):
        cells = {r["metric"]: r for r in rows if r["arm"] == arm}
        first = cells[shown[0]]
        table.add_row(str(arm), *(str(first[k]) for k in keys), *(
            f"{cells[m]['mean']:.0f} [{cells[m]['ci_low']:.0f}, {cells[m]['ci_high']:.0f}]"
            for m in shown))
        for m in shown:
            half = (cells[m]["ci_high"] - cells[m]["ci_low"]) / 2
            wanted = None if ci_width is None else ci_width * abs(cells[m]["mean"])
            if wanted is not None and half > wanted:
                need = replications_needed(cells[m]["n"], half, wanted)
                advice.append(f"arm {arm} {m}: CI ±{half:.0f} s is wider than ±{wanted:.0f} s; "
                              f"about {need} replications would do")
    out = stdout_console()
    out.print(table)
    for line in advice:
        out.print(line)


def print_sensitivity(result: Any) -> None:
    """Print each metric's settings, most important first, with the indices and CIs."""
    morris = result.method == "morris"
    rows = result.indices.to_pylist()
    shown: tuple[str, ...]
    headers: tuple[str, ...]
    if morris:
        title = (f"Morris screening, {result.blocks} trajectories: mu* [95% CI] = mean |change "
                 "of the metric| over a setting's full range; mu (signed); sigma (spread)")
        shown, headers = ("mu_star", "mu", "sigma"), ("mu*", "mu", "sigma")
    else:
        title = (f"Sobol' indices, {result.blocks} base samples: share of the metric's "
                 "variance from a setting alone (S1) and with its interactions (ST) [95% CI]")
        shown, headers = ("S1", "ST"), ("S1", "ST")
    table = Table(title=title)
    table.add_column("metric / setting, most important first", justify="left")
    for header in headers:
        table.add_column(header, justify="right")
    for metric in result.metrics:
        mine = [r for r in rows if r["metric"] == metric]
        table.add_row(f"[bold]{metric}[/bold]", *("" for _ in shown))
        ranked = sorted({r["parameter"]: r["rank"] for r in mine}.items(), key=lambda kv: kv[1])
        for parameter, rank in ranked:
            cells = {r["index"]: r for r in mine if r["parameter"] == parameter}
            table.add_row(f"  {rank}. {parameter}",
                          *(_index_cell(cells[name], morris) for name in shown))
    stdout_console().print(table)


def _index_cell(row: dict[str, Any], morris: bool) -> str:
    """Return an index with its CI: metric units for Morris, a share for Sobol'."""
    def number(value: float) -> str:
        if value != value:  # nan
            return "-"
        if not morris:
            return f"{value:.2f}"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"

    if row["conf"] is None:
        return number(row["value"])
    return f"{number(row['value'])} [{number(row['ci_low'])}, {number(row['ci_high'])}]"


def print_search(summary: dict[str, Any]) -> None:
    """Print the missing-person arms side by side, with their CIs."""
    table = Table(title=f"Missing person ({summary['category']}, {summary['district']}): "
                        "strategies and sighting channels, 95% CIs")
    for column in ("arm", "median h to find", "found in 1 h", "found in 3 h",
                   "found in 6 h", "before harm", "searchers", "searcher-h"):
        table.add_column(column, justify="left" if column == "arm" else "right")

    def share(cell: dict[str, Any]) -> str:
        return f"{cell['p']:.0%} [{cell['ci'][0]:.0%}, {cell['ci'][1]:.0%}]"

    def hours(value: float | None) -> str:
        return ">horizon" if value is None else f"{value:.1f}"

    for name, f in summary["strategies"].items():
        low, high = f["median_ci_h"]
        table.add_row(name, f"{hours(f['median_time_to_find_h'])} [{hours(low)}, {hours(high)}]",
                      share(f["p_found_1h"]), share(f["p_found_3h"]), share(f["p_found_6h"]),
                      share(f["p_found_before_critical"]), f"{f['searchers_mean']:.0f}",
                      f"{f['searcher_hours_mean']:.0f}")
    out = stdout_console()
    out.print(table)
    score = summary["mapscore"]
    distance = summary["subject_distance_km"]
    honest, wrong = score["honest"], score["wrong"]
    out.print(f"MapScore on {honest['n']} held-out subjects: honest prior {honest['mean']:.2f} "
              f"[{honest['ci'][0]:.2f}, {honest['ci'][1]:.2f}], wrong prior "
              f"({score['wrong_prior_category']} rings) {wrong['mean']:.2f} "
              f"[{wrong['ci'][0]:.2f}, {wrong['ci'][1]:.2f}]; ISRID distance rings on real "
              f"finds {score['isrid_benchmark']:.2f} (Ferguson 2013). Subjects settled "
              f"{distance['p25']}/{distance['p50']}/{distance['p75']} km (quartiles) from "
              "the last known point.")


def print_fraud(summary: dict[str, Any]) -> None:
    """Print the anti-fraud study's figures with CIs, by channel, and each sweep."""
    out = stdout_console()
    figures = summary["figures"]
    table = Table(title=f"Anti-fraud study: {summary['cases']:,} cases in "
                        f"{summary['replications']} replications of "
                        f"{summary['days_per_replication']:g} day(s); mean [95% CI]")
    table.add_column("figure", justify="left")
    table.add_column("mean [95% CI]", justify="right")
    for name, label in FRAUD_FIGURES.items():
        table.add_row(label, _mean_cell(figures[name], name))
    out.print(table)
    by = Table(title="By payment channel (pooled cases, 95% Wilson CIs)")
    for column in ("channel", "cases", "stopped before first", "stopped before last",
                   "loss prevented", "officer h"):
        by.add_column(column, justify="left" if column == "channel" else "right")
    for channel, g in summary["by_channel"].items():
        by.add_row(channel, f"{g['cases']:,}", _wilson_cell(g["stopped_before_first"]),
                   _wilson_cell(g["stopped_before_last"]), _percent(g["prevented_share"]),
                   f"{g['officer_hours']:,.0f}")
    out.print(by)
    if summary["sweeps"]:
        sweeps = Table(title="Sweeps: one setting at a time on the same seeds; mean ± 95% CI "
                             "half-width")
        sweeps.add_column("setting", justify="left", no_wrap=True, min_width=26)
        for column in ("value", "loss prevented", "loss rate after warning",
                       "stopped before last", "officer h/day", "call-back wait s"):
            sweeps.add_column(column, justify="right")
        shown = ""
        for row in summary["sweeps"]:
            sweeps.add_row("" if row["key"] == shown else row["key"], f"{row['value']:g}",
                           *(_plus_minus(row[name], name) for name in (
                               "prevented_share", "loss_rate_after_warning",
                               "stopped_before_last_share", "officer_hours_per_day",
                               "callback_wait_s_mean")))
            shown = row["key"]
        out.print(sweeps)
    reports = summary["victim_reports"]
    if reports:
        out.print(f"victims who report do so within 1 h in "
                  f"{_wilson_cell(reports['reported_within_1h_share'])} of cases (Kerala: ~20%); "
                  f"a report within 1 h gets money back in "
                  f"{_wilson_cell(reports['recovered_any_when_victim_reported_within_1h'])} "
                  "(Kerala: >80%)", highlight=False)
    out.print(f"loss rate: {summary['loss_rate_definition']}", highlight=False)


FRAUD_FIGURES = {
    "prevented_share": "loss prevented (share of the money at stake)",
    "loss_rate_after_warning": "loss rate after a warning (definition below)",
    "warned_share": "cases the police were warned of",
    "stopped_before_first_share": "stopped before the first transfer",
    "stopped_before_last_share": "stopped before the last transfer",
    "recovered_share": "money recovered of money transferred",
    "lost_yuan_per_day": "yuan lost a day",
    "prevented_yuan_per_day": "yuan of loss prevented a day",
    "officer_hours_per_day": "officer hours a day (visits)",
    "call_taker_hours_per_day": "call-taker hours a day",
    "callback_wait_s_mean": "wait for a call-taker, s (mean)",
}


def _mean_cell(cell: dict[str, Any], name: str) -> str:
    """Return ``mean [low, high]``: a share in per cent, else a number."""
    mean, (low, high) = cell["mean"], cell["ci"]
    if mean is None:
        return "-"
    if "share" in name or "rate" in name:
        return f"{_percent(mean)} [{_percent(low)}, {_percent(high)}]"
    return f"{mean:,.1f} [{_figure(low)}, {_figure(high)}]" if abs(mean) < 100 else (
        f"{mean:,.0f} [{_figure(low)}, {_figure(high)}]")


def _plus_minus(cell: dict[str, Any], name: str) -> str:
    """Return ``mean ± half-width``: a share in per cent, else a number."""
    mean, (low, high) = cell["mean"], cell["ci"]
    if mean is None:
        return "-"
    half = None if low is None or high is None else (high - low) / 2.0
    if "share" in name or "rate" in name:
        return _percent(mean) + ("" if half is None else f" ± {_percent(half)}")
    return _figure(mean) + ("" if half is None else f" ± {_figure(half)}")


def _percent(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if abs(value) >= 0.001 or value == 0 else f"{value:.4%}"


def _figure(value: float | None) -> str:
    return "-" if value is None else (f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}")


def _wilson_cell(cell: dict[str, Any]) -> str:
    return f"{_percent(cell['p'])} [{_percent(cell['ci'][0])}, {_percent(cell['ci'][1])}]"


def print_summary(summary: dict[str, Any], console: Console) -> None:
    """Print the headline figures and the by-type and by-kind tables."""
    console.print(
        f"[bold]{summary['scenario']}[/bold], seed {summary['seed']}, "
        f"{summary['duration_days']:g} day(s): {summary['incidents']} incidents, "
        f"{summary['answered']} reached by someone"
    )
    headline = Table(title="Response time from the call (s)")
    for column in ("", "n", "p50", "p90", "p95"):
        headline.add_column(column, justify="right" if column else "left")
    rows = (("first arrival", "first_arrival_s"), ("police arrival", "police_arrival_s"))
    for label, key in rows:
        stat = summary[key]
        headline.add_row(label, str(stat["n"]), *(_fmt(stat[p]) for p in ("p50", "p90", "p95")))
    console.print(headline)

    by_type = Table(title="By incident type (s)")
    for column in ("type", "incidents", "first p50", "first p90", "police p50", "police p90"):
        by_type.add_column(column, justify="left" if column == "type" else "right")
    for name, group in summary["by_type"].items():
        first, police = group["first_arrival_s"], group["police_arrival_s"]
        by_type.add_row(name, str(group["incidents"]), _fmt(first["p50"]), _fmt(first["p90"]),
                        _fmt(police["p50"]), _fmt(police["p90"]))
    console.print(by_type)

    by_kind = Table(title="By responder kind")
    for column in ("kind", "dispatches", "first on scene", "arrival p50 (s)"):
        by_kind.add_column(column, justify="left" if column == "kind" else "right")
    for kind, group in summary["by_responder_kind"].items():
        share = group["first_on_scene_share"]
        by_kind.add_row(kind, str(group["dispatches"]), "-" if share is None else f"{share:.1%}",
                        _fmt(group["arrival_s"]["p50"]))
    console.print(by_kind)
    if "fleets" in summary:
        by_fleet = Table(title="By fleet (min)")
        for column in ("fleet", "units", "dispatches", "first on scene", "arrival p50",
                       "arrival p90", "busy"):
            by_fleet.add_column(column, justify="left" if column == "fleet" else "right")
        for name, fleet in summary["fleets"].items():
            share, arrival = fleet["first_on_scene_share"], fleet["arrival_s"]
            by_fleet.add_row(name, str(fleet["units"]), str(fleet["dispatches"]),
                             "-" if share is None else f"{share:.1%}",
                             _minutes(arrival["p50"]), _minutes(arrival["p90"]),
                             _pct(fleet["busy_share"]))
        console.print(by_fleet)

    alerts = summary["volunteer_alerts_per_volunteer"]
    console.print(
        f"volunteer or grid worker before police: {_pct(summary['local_before_police_share'])}; "
        f"utilisation: patrol {_pct(summary['patrol_utilisation'])}, community police "
        f"{_pct(summary['community_police_utilisation'])}, "
        f"mediators {_pct(summary['mediator_utilisation'])}; "
        f"alerts per volunteer: mean {_fmt(alerts.get('mean'), '.2f')}, "
        f"max {_fmt(alerts.get('max'))}"
    )
    by_hour = summary.get("utilisation_by_hour")
    if by_hour:
        console.print("busiest hour (busy over on-duty time): " + ", ".join(
            _busiest(kind.replace("_", " "), values) for kind, values in by_hour.items()))
    coverage = summary.get("coverage")
    if coverage:
        console.print(_coverage_line(coverage))


def _coverage_line(coverage: dict[str, Any]) -> str:
    """Return the coverage headline: residents reached within each ring, Gini, worst cells."""
    rings = ", ".join(f"{_pct(share)} within {float(ring) / 60:g} min" for ring, share in
                      coverage["population_weighted_share_within_s"]["any"].items())
    line = f"residents' incidents reached: {rings}"
    worst = coverage.get("worst")
    if worst is not None:
        cells, gini = coverage["cells"], coverage["gini_of_p90_first_arrival"]
        line += (f"; Gini of the {cells}' p90 {gini:.2f}; worst "
                 f"{worst['share_of_rated_cells']:.0%} of {cells} ({worst['population']:,} "
                 f"residents) p90 {worst['p90_first_arrival_s_mean']:.0f} s against "
                 f"{_fmt(worst['p90_first_arrival_s_mean_elsewhere'])} s")
    return line


def _busiest(label: str, values: list[float | None]) -> str:
    known = [(v, hour) for hour, v in enumerate(values) if v is not None]
    if not known:
        return f"{label} -"
    value, hour = max(known, key=lambda pair: (pair[0], -pair[1]))
    return f"{label} {value:.0%} at {hour:02d} h"


def _fmt(value: float | None, spec: str = ".0f") -> str:
    return "-" if value is None else format(value, spec)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def print_calibration(report: dict[str, Any]) -> None:
    """Print the posterior of each parameter and the predictive check of each target."""
    console = Console()
    params = Table(title=f"Posterior ({report['generations']} generations, "
                         f"{report['simulations']:,} runs, "
                         f"{report['city_days_simulated']:,.0f} city-days)")
    for column in ("parameter", "median", "90% interval", "prior", "share of prior"):
        params.add_column(column, justify="left" if column == "parameter" else "right")
    for key, fit in report["parameters"].items():
        low, high = fit["interval"]
        params.add_row(key, f"{fit['median']:.4g}", f"[{low:.4g}, {high:.4g}]",
                       f"[{fit['prior'][0]:g}, {fit['prior'][1]:g}] {fit['prior_scale']}",
                       f"{fit['interval_share_of_prior']:.0%}")
    console.print(params)
    check = Table(title="Posterior-predictive check")
    for column in ("target", "observed ± sd", "predicted median", "90% interval", "z", "ok"):
        check.add_column(column, justify="left" if column == "target" else "right")
    for name, row in report["targets"].items():
        low, high = row["predicted_interval"]
        check.add_row(f"{name} ({row['metric']})", f"{row['observed']:,.4g} ± {row['sd']:,.3g}",
                      f"{row['predicted_median']:,.4g}", f"[{low:,.4g}, {high:,.4g}]",
                      f"{row['z']:.2f}", "yes" if row["ok"] else "NO")
    console.print(check)


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60.0:.1f}"
