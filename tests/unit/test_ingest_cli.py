"""The ingest and demo-logs commands, driven in-process."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_out_writes_one_workload_section_per_group(tmp_path: Path) -> None:
    out = tmp_path / "workload.yaml"
    result = run("ingest", str(DATA / "generic.csv"), "--by", "workload-tag", "--out", str(out))
    assert result.exit_code == 0, result.output
    sections = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert set(sections) == {"wl-a", "wl-b"}
    wl_a = sections["wl-a"]
    # wl-a: rows of 100/10, 200/20, 400/40 on one day -> x30 per month; 3 requests.
    assert wl_a["input_tokens_per_month"] == 700 * 30
    assert wl_a["output_tokens_per_month"] == 70 * 30
    assert wl_a["requests_per_month"] == 3 * 30
    assert wl_a["input_tokens_per_request"] == round(700 / 3, 6)
    for share in ("cached_input_share", "batch_share"):
        assert 0.0 <= wl_a[share] <= 1.0


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
