"""Every example, at its own volume and at 0, 1 and 1e15 tokens/month, through every command,
format, the page's view JSON and the reports: nothing fails, and no option flagged as unable
to serve a volume is ever named the cheapest at it.

What "cannot serve" means is the result's own data (``feasible`` on options, sweep rows and
break-evens, ``probability_can_serve`` in the simulation); these tests check that every
rendering agrees with it.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

import support

pytest.importorskip("fastapi", reason="FastAPI is not installed: pip install -e .")
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from llm_tco.cli import app as cli_app
from llm_tco.result import Result
from llm_tco.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
VOLUMES = [None, 0.0, 1.0, 1e15]  # None: the example's own volume
SAMPLES = "200"  # enough to exercise the Monte Carlo; the figures are not what is checked here

VOLUME_FIELDS = (
    "input_tokens_per_month",
    "output_tokens_per_month",
    "tokens_per_month",
    "tokens_per_day",
    "requests_per_month",
    "requests_per_day",
)


def at_volume(data: dict[str, Any], volume: float | None) -> dict[str, Any]:
    """The scenario with its total monthly volume set to ``volume``, same split and shape."""
    data = copy.deepcopy(data)
    if volume is None:
        return data
    w = data["workload"]
    if "input_tokens_per_month" in w or "output_tokens_per_month" in w:
        given_in = float(w.get("input_tokens_per_month") or 0)
        given_out = float(_number(w.get("output_tokens_per_month") or 0))
        share = given_in / (given_in + given_out) if given_in + given_out else 0.5
        w["input_tokens_per_month"] = volume * share
        w["output_tokens_per_month"] = volume * (1 - share)
    elif "input_tokens_per_request" in w:
        per_request = float(w["input_tokens_per_request"]) + float(w["output_tokens_per_request"])
        w.pop("requests_per_day", None)
        w["requests_per_month"] = volume / per_request
    else:
        w.pop("tokens_per_day", None)
        w["tokens_per_month"] = volume
    data.pop("sweep", None)  # the default sweep: decades around the new volume
    return data


def _number(value: Any) -> float:
    from llm_tco.core.units import parse_quantity

    return parse_quantity(value)


CASES = [
    pytest.param(path, volume, id=f"{path.stem}@{'own' if volume is None else f'{volume:g}'}")
    for path in EXAMPLES
    for volume in VOLUMES
]


@pytest.fixture(scope="module")
def client() -> TestClient:
    return support.api_client(create_app())  # Host 127.0.0.1, JSON bodies


def _write(tmp_path: Path, path: Path, volume: float | None) -> Path:
    data = at_volume(yaml.safe_load(path.read_text()), volume)
    out = tmp_path / path.name
    out.write_text(yaml.safe_dump(data))
    return out


def _cli(*args: str) -> str:
    outcome = CliRunner().invoke(cli_app, list(args))
    assert outcome.exception is None or isinstance(outcome.exception, SystemExit), (
        f"{args}: {outcome.exception!r}"
    )
    assert outcome.exit_code == 0, f"{args}: exit {outcome.exit_code}\n{outcome.output}"
    assert "Traceback" not in outcome.output
    return outcome.stdout


def check_result(result: Result) -> None:
    """The Result's own data never names an option that cannot serve as the cheapest."""
    options = {o.name: o for o in result.options}
    if result.cheapest is not None:
        best = options[result.cheapest]
        assert best.feasible and math.isfinite(best.monthly_cost)
        serving = [o.monthly_cost for o in result.options if o.feasible]
        assert best.monthly_cost == min(serving)
    else:
        assert not any(o.feasible for o in result.options)
    for row in result.sweep:
        assert set(row.feasible) == set(options)
        if row.cheapest is None:
            assert not any(row.feasible.values())
            continue
        assert row.feasible[row.cheapest], (row.tokens_per_month, row.cheapest)
        assert math.isfinite(row.costs[row.cheapest])
        assert row.verdict.startswith(row.cheapest)
        serving = [row.costs[n] for n, ok in row.feasible.items() if ok]
        assert row.costs[row.cheapest] == min(serving)
        for name, ok in row.feasible.items():
            assert ok or name in row.infeasible_reasons
    for b in result.breakeven:
        if not b.feasible:
            assert b.tokens_per_month is None and b.infeasible_reason
        for crossing in b.crossings:
            if b.tokens_per_month is not None and crossing.tokens_per_month == b.tokens_per_month:
                assert crossing.feasible
    for o in result.options:
        if o.to_serve is not None:
            assert not o.feasible and o.to_serve.gpus > 0


def check_markdown(text: str, result: Result) -> None:
    infeasible = {o.name for o in result.options if not o.feasible}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) > 2 and cells[-1] == "cheapest":
            assert cells[0] not in infeasible, line
    for name in infeasible:
        assert f"**{name} cannot serve**" in text


def check_csv(text: str) -> None:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows
    for row in rows:
        if row["cheapest"] == "true":
            assert row["can_serve"] == "true", row


def check_view(report: dict[str, Any]) -> None:
    result = Result.model_validate(report["result"])
    check_result(result)
    infeasible = {o.name for o in result.options if not o.feasible}
    view = report["view"]
    options = view["tables"]["options"]
    for row in options["rows"]:
        if row[-1] == "cheapest":
            assert row[0] not in infeasible
    for name in infeasible:
        assert any(line.startswith(f"{name} cannot serve") for line in view["infeasible"])
    if result.cheapest is None:
        assert view["headline"].startswith("No option can serve")
    else:
        assert result.cheapest in view["headline"]
    for name in infeasible:
        assert f": {name} at " not in view["headline"]
    rec = report["recommendation"]
    if rec is not None and result.cheapest is not None:
        assert rec["choose"] not in infeasible
    sim = (rec or {}).get("simulation")
    if sim is not None:
        for band in sim["options"]:
            assert band["probability_cheapest"] <= band["probability_can_serve"] + 1e-12
            if band["name"] in infeasible and band["probability_can_serve"] == 0:
                assert band["probability_cheapest"] == 0
    sens = report["sensitivity"]
    serving = [o for o in result.options if o.feasible]
    if sens is not None and len(serving) >= 2:
        assert sens["option"] not in infeasible and sens["versus"] not in infeasible
    curves = report["charts"]["cost_curve"]["datasets"]["curves"]
    for point in curves:
        assert isinstance(point["serves"], bool)
    for row in result.sweep:  # the chart's line style says the same as the sweep
        for name, ok in row.feasible.items():
            styles = {
                p["serves"]
                for p in curves
                if p["option"] == name and p["tokens_per_month"] == row.tokens_per_month
            }
            if styles and math.isfinite(row.costs[name]):
                assert ok in styles


@pytest.mark.parametrize(("path", "volume"), CASES)
def test_every_command_and_format(path: Path, volume: float | None, tmp_path: Path) -> None:
    file = str(_write(tmp_path, path, volume))
    result = Result.model_validate_json(_cli("evaluate", file, "-f", "json"))
    check_result(result)
    check_markdown(_cli("evaluate", file, "-f", "markdown"), result)
    check_csv(_cli("evaluate", file, "-f", "csv"))
    _cli("evaluate", file)
    sampled = Result.model_validate_json(
        _cli("evaluate", file, "-f", "json", "--samples", SAMPLES, "--seed", "1")
    )
    check_result(sampled)
    swept = Result.model_validate_json(_cli("sweep", file, "--volumes", "1,1M,1B,1T", "-f", "json"))
    check_result(swept)
    check_csv(_cli("sweep", file, "--volumes", "1,1M,1B,1T", "-f", "csv"))
    sim = json.loads(_cli("simulate", file, "--samples", SAMPLES, "--seed", "1", "--json"))
    never = {o.name for o in result.options if not o.feasible and o.kind == "self_hosted"}
    for band in sim["options"]:
        assert band["probability_cheapest"] <= band["probability_can_serve"] + 1e-12
        if band["name"] in never and band["probability_can_serve"] == 0:
            assert band["probability_cheapest"] == 0
    rec = json.loads(_cli("recommend", file, "--samples", SAMPLES, "--json"))
    if result.cheapest is not None:
        assert result.option(rec["choose"]).feasible
    if len(result.options) > 1:
        sens = json.loads(_cli("sensitivity", file, "--json"))
        if sum(o.feasible for o in result.options) >= 2:
            assert result.option(sens["option"]).feasible
            assert result.option(sens["versus"]).feasible
    _cli("report", file, "-o", str(tmp_path / "report.html"), "--samples", SAMPLES)


@pytest.mark.parametrize(("path", "volume"), CASES)
def test_view_and_reports(path: Path, volume: float | None, client: TestClient) -> None:
    data = at_volume(yaml.safe_load(path.read_text()), volume)
    response = client.post("/api/view", json=data)
    assert response.status_code == 200, response.text
    check_view(response.json())
    for fmt in ("html", "md"):
        report = client.post(f"/api/report?format={fmt}", json=data)
        assert report.status_code == 200, report.text[:500]
    for endpoint in ("/api/evaluate", "/api/recommend"):
        assert client.post(endpoint, json=data).status_code == 200
