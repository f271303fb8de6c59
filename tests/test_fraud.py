"""The anti-fraud study: races against closed forms, the reporting-delay sweep, the CLI."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from gridsim.cli.main import main
from gridsim.scenario.schema import CHARACTERS, Fraud
from gridsim.studies.experiment import replication_seeds
from gridsim.studies.fraud.model import FraudCity, run_replication
from gridsim.studies.fraud.study import replication_figures

ROOT = Path(__file__).resolve().parents[1]
ANTI_FRAUD = ROOT / "scenarios" / "anti-fraud.toml"
Z_999 = 3.29  # two-sided 99.9%: a correct model fails a check about once in a thousand


def _spec(**changes: Any) -> Fraud:
    """Return the scenario's [fraud] with ``changes`` (dotted keys) and no sweeps."""
    data = tomllib.loads(ANTI_FRAUD.read_text(encoding="utf-8"))["fraud"]
    data["sweeps"] = []
    for key, value in changes.items():
        *parents, last = key.split("__")
        node = data
        for part in parents:
            node = node[part]
        node[last] = value
    return Fraud.model_validate(data)


def _city(car_s: float = 300.0, nodes: int = 20) -> FraudCity:
    """Return a toy city: ``nodes`` equally populated nodes, two stations, free flow."""
    return FraudCity(node_weight=np.ones(nodes), node_station=np.arange(nodes) % 2,
                     station_car_s=np.full(nodes, car_s),
                     node_character=np.zeros(nodes, dtype=np.int64),
                     congestion=np.ones((24, len(CHARACTERS))), stations=2)


def _exponential(mean_s: float) -> dict[str, Any]:
    return {"dist": "exponential", "mean_s": mean_s}


# one transfer through a channel nobody watches; only the named warning source can act
SINGLE_TRANSFER = {
    "extra_transfers_mean": 0.0, "max_transfers": 1,
    "channels": {"app": {"share": 1.0, "detect_prob": 0.0}},
    "call_takers": 100_000, "officers_per_station": 0, "cases_per_day": 2500.0,
}


def _pooled(spec: Fraud, reps: int, seed: int = 11) -> dict[str, np.ndarray]:
    runs = [run_replication(spec, _city(), s) for s in replication_seeds(seed, reps)]
    return {key: np.concatenate([r[key] for r in runs]) for key in runs[0]}


def test_interception_matches_the_closed_form_race() -> None:
    """Feed warning W, call-back C, transfer T, all exponential: P(W + C < T) in closed form.

    P(W < T) = a / (a + m); by memorylessness the rest of T still races C: b / (b + m).
    """
    mean_t, mean_w, mean_c = 1800.0, 600.0, 900.0
    spec = _spec(**SINGLE_TRANSFER, first_transfer_s=_exponential(mean_t),
                 feed__prob=1.0, feed__delay_s=_exponential(mean_w), victim__prob=0.0,
                 callback_s=_exponential(mean_c), callback_success_prob=1.0)
    cases = _pooled(spec, reps=4)
    a, b, m = 1.0 / mean_w, 1.0 / mean_c, 1.0 / mean_t
    expected = a / (a + m) * b / (b + m)  # 0.5
    n = cases["case"].shape[0]
    observed = float(cases["stopped_before_first"].mean())
    half = Z_999 * np.sqrt(expected * (1.0 - expected) / n)
    assert n > 8000
    assert abs(observed - expected) < half, (observed, expected, half)
    # the same check rejects a model that forgot the call-back's delay (W < T only)
    assert abs(observed - a / (a + m)) > half
    assert (cases["stopped_by"][cases["stopped_before_first"]] == "callback").all()


def test_freezing_matches_the_closed_form_race() -> None:
    """Victim report V after the payment, freeze F after it, cash-out H: P(V + F < H)."""
    mean_v, mean_f, mean_h = 1200.0, 2400.0, 3600.0
    spec = _spec(**SINGLE_TRANSFER, first_transfer_s=_exponential(600.0),
                 feed__prob=0.0, victim__prob=1.0, victim__delay_s=_exponential(mean_v),
                 stop_payment_success_prob=0.0, freeze_success_prob=1.0,
                 freeze_delay_s=_exponential(mean_f), mule_layers=1,
                 mule_hop_s=_exponential(mean_h))
    cases = _pooled(spec, reps=4, seed=12)
    v, f, k = 1.0 / mean_v, 1.0 / mean_f, 1.0 / mean_h
    expected = v / (v + k) * f / (f + k)  # 0.45
    recovered = cases["recovered_yuan"] > 0.0
    n = recovered.shape[0]
    half = Z_999 * np.sqrt(expected * (1.0 - expected) / n)
    assert abs(float(recovered.mean()) - expected) < half, (recovered.mean(), expected)
    assert abs(float(recovered.mean()) - v / (v + k)) > half  # the freeze delay matters
    # every case was paid and reported: the money at risk at the report is all of it
    assert np.allclose(cases["at_risk_at_warning_yuan"][recovered],
                       cases["amount_yuan"][recovered])


def test_loss_prevented_falls_as_the_bank_reports_later() -> None:
    """The article: the quicker the bank's report, the more is stopped (paired, same seeds)."""
    delays = [60.0, 900.0, 3600.0, 14400.0]
    seeds = replication_seeds(5, 12)
    base = _spec(cases_per_day=400.0, victim__prob=0.0, feed__prob=0.0)
    city = _city()
    prevented = np.array([[replication_figures(run_replication(
        base.with_value("bank_report_delay_s.mean_s", d), city, s), base.days)[
            "prevented_share"] for s in seeds] for d in delays])
    steps = prevented[:-1] - prevented[1:]  # each step's paired differences (later: less)
    se = steps.std(axis=1, ddof=1) / np.sqrt(len(seeds))
    assert (steps.mean(axis=1) > -2.0 * se).all(), steps.mean(axis=1)
    total = prevented[0] - prevented[-1]
    t = total.mean() / (total.std(ddof=1) / np.sqrt(len(seeds)))
    assert t > 4.0, (total.mean(), t)


def _small_fraud_scenario(tmp_path: Path, *extra: str) -> Path:
    """Write the small town with the anti-fraud study's [fraud] section; return its path."""
    small = (ROOT / "scenarios" / "small.toml").read_text(encoding="utf-8")
    fraud = ANTI_FRAUD.read_text(encoding="utf-8")
    section = fraud[fraud.index("\n[fraud]\n"):]
    path = tmp_path / "small-fraud.toml"
    path.write_text(small.replace('name = "small"', 'name = "small-fraud"') + section
                    + "\n".join(extra) + "\n", encoding="utf-8")
    return path


def test_run_writes_the_study_and_is_deterministic(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    scenario = _small_fraud_scenario(tmp_path)
    sets = ["--set", "fraud.replications=4", "--set", "fraud.cases_per_day=50", "--set",
            'fraud.sweeps=[{key="bank_report_delay_s.mean_s", values=[60, 3600], '
            'replications=3}]']
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        assert main(["run", str(scenario), "--out", str(out), *sets]) == 0
    printed = capsys.readouterr().out
    assert "Anti-fraud study" in printed and "loss rate after a warning" in printed
    for name in ("summary.json", "fraud.parquet", "loss_prevented_sweeps.png",
                 "interception_by_channel_hour.png", "scenario.json"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    summary = json.loads((outs[0] / "summary.json").read_text())
    table = pq.read_table(outs[0] / "fraud.parquet").to_pydict()
    assert summary["cases"] == len(table["case"]) > 100
    assert set(table["replication"]) == {0, 1, 2, 3}
    assert "money at risk" in summary["loss_rate_definition"]
    assert [s["value"] for s in summary["sweeps"]] == [60.0, 3600.0]
    # money is conserved case by case: lost + recovered + never paid = amount
    amount = np.array(table["amount_yuan"])
    lost, recovered = np.array(table["lost_yuan"]), np.array(table["recovered_yuan"])
    assert (lost + recovered <= amount * (1 + 1e-12)).all()
    assert (np.array(table["lost_after_warning_yuan"]) <= lost + 1e-9).all()


@pytest.mark.parametrize("setting, message", [
    ('fraud.sweeps=[{key="no_such_key", values=[1, 2]}]',
     "fraud.sweeps[0].key: 'no_such_key' is not a number of [fraud]"),
    ('fraud.sweeps=[{key="callback_success_prob", values=[0.5, 1.5]}]',
     "fraud.sweeps[0].values: 1.5 is not allowed for callback_success_prob"),
    ("fraud.freeze_success_prob=2", "fraud.freeze_success_prob"),
])
def test_bad_fraud_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     setting: str, message: str) -> None:
    scenario = _small_fraud_scenario(tmp_path)
    assert main(["validate", str(scenario), "--set", setting]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
