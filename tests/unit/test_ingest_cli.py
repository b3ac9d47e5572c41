"""The ingest and demo-logs commands, driven in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from llm_tco.ingest.cli import register

DATA = Path(__file__).parent.parent / "data" / "ingest"
runner = CliRunner()


def app() -> typer.Typer:
    application = typer.Typer()
    register(application)
    return application


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app(), list(args))


def test_json_output_has_the_stable_fields() -> None:
    result = run("ingest", str(DATA / "litellm_spend_logs.csv"), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["rows_read"] == 7
    assert data["rows_rejected"] == {
        "duplicate_request_id": 1,
        "missing_tokens": 1,
        "bad_timestamp": 1,
        "malformed_line": 1,
    }
    group = data["groups"]["all"]
    for field in (
        "requests",
        "input_tokens",
        "output_tokens",
        "cached_input_tokens",
        "months",
        "peak_to_mean",
    ):
        assert field in group
    # All three good rows are in March 2025: 100 + 200 + 300 input tokens.
    assert group["months"]["2025-03"]["input_tokens"] == 600


def test_table_output_names_rejects_and_unpriced_models() -> None:
    result = run("ingest", str(DATA / "generic.csv"))
    assert result.exit_code == 0, result.output
    assert "negative_tokens" in result.output
    assert "model-a" in result.output  # listed as not in the catalog, not fatal


def test_strict_fails_on_any_rejected_row() -> None:
    result = run("ingest", str(DATA / "generic.csv"), "--strict")
    assert result.exit_code == 2
    assert "2 rows rejected" in result.output
    assert "Traceback" not in result.output


def test_strict_passes_a_clean_log() -> None:
    result = run("ingest", str(DATA / "openai_usage.json"), "--strict", "--format", "json")
    assert result.exit_code == 0, result.output


def test_errors_are_one_line_with_exit_2(tmp_path: Path) -> None:
    for args in (
        ["ingest", str(tmp_path / "missing.csv")],
        ["ingest", str(DATA / "generic.csv"), "--by", "colour"],
        ["ingest", str(DATA / "generic.csv"), "--format", "xml"],
        ["ingest", str(DATA / "generic.csv"), "--map", "nonsense"],
        ["ingest", str(DATA / "generic_mapped.csv")],
    ):
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert result.output.startswith("error:"), result.output
        assert "Traceback" not in result.output


def test_log_format_and_output_format_together() -> None:
    result = run(
        "ingest", str(DATA / "litellm_spend_logs.csv"), "--format", "litellm", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["formats"] == ["litellm"]


def test_out_writes_the_busiest_group_as_a_scenario_workload(tmp_path: Path) -> None:
    out = tmp_path / "workload.yaml"
    result = run("ingest", str(DATA / "generic.csv"), "--by", "workload-tag", "--out", str(out))
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(out.read_text(encoding="utf-8"))
    wl_a = document["workload"]
    # wl-a (the busier group): rows of 100/10, 200/20, 400/40 on one day -> x30 per month;
    # 3 requests, so 90 requests/month of 700 / 3 input and 70 / 3 output tokens.
    assert wl_a["requests_per_month"] == 3 * 30
    assert wl_a["input_tokens_per_request"] == round(700 / 3, 6)
    assert wl_a["output_tokens_per_request"] == round(70 / 3, 6)
    assert "input_tokens_per_month" not in wl_a  # the volume is given one way only
    for share in ("cached_input_share", "batch_share"):
        assert 0.0 <= wl_a[share] <= 1.0
    assert "wl-b" in out.read_text(encoding="utf-8")  # the other group is named in a comment


def test_out_round_trips_through_evaluate_and_from_file(tmp_path: Path) -> None:
    from llm_tco.cli import app as cli_app

    logs = tmp_path / "logs.csv"
    assert run("demo-logs", str(logs), "--rows", "3000", "--days", "40").exit_code == 0
    out = tmp_path / "w.yaml"
    result = run("ingest", str(logs), "--out", str(out))
    assert result.exit_code == 0, result.output
    summary = json.loads(run("ingest", str(logs), "--format", "json").output)["groups"]["all"]

    # The file as written is a scenario `evaluate` runs.
    evaluated = runner.invoke(cli_app, ["evaluate", str(out), "-f", "json"])
    assert evaluated.exit_code == 0, evaluated.output
    workload = json.loads(evaluated.output)["workload"]
    # Its volume is the ingested one: requests x tokens per request = tokens per month.
    assert workload["input_tokens_per_month"] == pytest.approx(
        summary["input_tokens_per_month"], rel=1e-6
    )
    assert workload["output_tokens_per_month"] == pytest.approx(
        summary["output_tokens_per_month"], rel=1e-6
    )

    # And another scenario takes its workload with from_file (relative to that scenario).
    (tmp_path / "compare.yaml").write_text(
        "name: from file\n"
        "workload: {from_file: w.yaml, peak_to_mean: 3}\n"
        "options:\n"
        "  - {name: cheap-api, api: {input_per_mtok: 0.5, output_per_mtok: 1.5}}\n",
        encoding="utf-8",
    )
    reused = runner.invoke(cli_app, ["evaluate", str(tmp_path / "compare.yaml"), "-f", "json"])
    assert reused.exit_code == 0, reused.output
    data = json.loads(reused.output)
    assert data["workload"]["input_tokens_per_month"] == pytest.approx(
        workload["input_tokens_per_month"]
    )
    assert data["workload"]["peak_to_mean"] == 3  # a key next to from_file wins
    # 0.5 $/MTok input + 1.5 $/MTok output on the ingested volume.
    expected = (
        workload["input_tokens_per_month"] * 0.5 + workload["output_tokens_per_month"] * 1.5
    ) / 1e6
    assert data["options"][0]["monthly_cost"] == pytest.approx(expected)


def test_from_file_that_does_not_exist_names_the_field(tmp_path: Path) -> None:
    from llm_tco.cli import app as cli_app

    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "workload: {from_file: missing.yaml}\noptions: [{name: a, api: {model: gpt-4o}}]\n",
        encoding="utf-8",
    )
    result = runner.invoke(cli_app, ["evaluate", str(scenario)])
    assert result.exit_code == 2
    assert "workload.from_file" in result.output


def test_demo_logs_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "demo.csv"
    result = run("demo-logs", str(out), "--rows", "2000", "--bad-share", "0.01")
    assert result.exit_code == 0, result.output
    data = json.loads(run("ingest", str(out), "--format", "json").output)
    # 2000 generated rows + 3 unparseable lines appended; 1% of rows (20) made bad.
    assert data["rows_read"] == 2003
    assert sum(data["rows_rejected"].values()) == 20 + 3
    assert data["rows_rejected"]["malformed_line"] == 3
    assert data["days"] == 59
