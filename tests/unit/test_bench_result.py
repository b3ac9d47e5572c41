"""The saved result: stable JSON fields, round trips, capacity at an SLO, vLLM import, compare."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from llm_tco.bench import BenchResult, LevelResult, Pricing, Slo, load_result
from llm_tco.bench.cli import register
from llm_tco.bench.compare import compare
from llm_tco.bench.metrics import RequestRecord
from llm_tco.errors import BenchError


def closed_level(
    concurrency: int, ttft_s: float, tokens_per_request: int, n: int = 10
) -> LevelResult:
    """n requests back to back, each 1 s long with the given TTFT: n x tokens over n seconds."""
    records = [
        RequestRecord(
            start_s=float(i),
            first_token_s=i + ttft_s,
            end_s=i + 1.0,
            input_tokens=100,
            output_tokens=tokens_per_request,
        )
        for i in range(n)
    ]
    return LevelResult(concurrency=concurrency, requests=records)


@pytest.fixture()
def result() -> BenchResult:
    # concurrency 1: 100 tok/s, TTFT 50 ms; 2: 180 tok/s, TTFT 150 ms; 4: 200 tok/s, TTFT 900 ms
    levels = [closed_level(1, 0.05, 100), closed_level(2, 0.15, 180), closed_level(4, 0.9, 200)]
    return BenchResult(endpoint="http://127.0.0.1:1", model="m", levels=levels)


def test_capacity_at_slo_picks_best_passing_level(result: BenchResult) -> None:
    # TTFT <= 200 ms: levels 1 and 2 pass; level 2 serves 180 out tok/s, 100 in tok/s, 1 req/s.
    assert result.capacity_at_slo(200.0, None) == pytest.approx((180.0, 100.0, 1.0))
    assert result.capacity_at_slo(100.0, None) == pytest.approx((100.0, 100.0, 1.0))
    # No SLO: the saturation level.
    assert result.capacity_at_slo(None, None) == pytest.approx((200.0, 100.0, 1.0))
    with pytest.raises(BenchError):
        result.capacity_at_slo(10.0, None)


def test_stable_json_fields_and_round_trip(result: BenchResult, tmp_path: Path) -> None:
    priced = result.model_copy(update={"slo": Slo(ttft_ms=200.0)})
    priced = priced.with_pricing(Pricing(hourly_usd=3.6))
    data = json.loads(priced.to_json(raw=False))
    assert data["schema_version"] == 1
    level = data["levels"][0]
    for key in ("concurrency", "requests_completed", "errors", "output_tokens_per_second"):
        assert key in level
    assert set(level["ttft_ms"]) >= {"p50", "p90", "p99"}
    assert set(level["tpot_ms"]) >= {"p50", "p90", "p99"}
    # $3.6/h at 100 tok/s: 360,000 tokens/h -> $10 per 1M.
    assert level["usd_per_mtok_output"] == pytest.approx(10.0)
    assert "requests" not in level

    # Full and summary-only files both load back to the same figures.
    full, summary = tmp_path / "full.json", tmp_path / "summary.json"
    priced.save(full)
    summary.write_text(priced.to_json(raw=False))
    for path in (full, summary):
        loaded = load_result(path)
        assert loaded.levels[1].output_tokens_per_second == pytest.approx(180.0)
        assert loaded.levels[1].ttft_ms is not None
        assert loaded.levels[1].ttft_ms.p50 == pytest.approx(150.0)
        assert loaded.capacity_at_slo(200.0, None)[0] == pytest.approx(180.0)


def test_unknown_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"schema_version": 99, "levels": []}))
    with pytest.raises(BenchError, match="schema version 99"):
        load_result(path)


def test_vllm_aggregate_import(tmp_path: Path) -> None:
    # The keys `vllm bench serve --save-result` writes (values made up for the test).
    data = {
        "date": "20250101-000000",
        "backend": "vllm",
        "model_id": "meta-llama/Llama-3.1-8B",
        "num_prompts": 100,
        "request_rate": "inf",
        "max_concurrency": 16,
        "duration": 50.0,
        "completed": 100,
        "total_input_tokens": 102400,
        "total_output_tokens": 12800,
        "request_throughput": 2.0,
        "output_throughput": 256.0,
        "total_token_throughput": 2304.0,
        "mean_ttft_ms": 120.0,
        "median_ttft_ms": 100.0,
        "std_ttft_ms": 10.0,
        "p99_ttft_ms": 300.0,
        "mean_tpot_ms": 30.0,
        "median_tpot_ms": 29.0,
        "std_tpot_ms": 2.0,
        "p99_tpot_ms": 40.0,
    }
    path = tmp_path / "vllm.json"
    path.write_text(json.dumps(data))
    result = load_result(path)
    level = result.levels[0]
    assert result.tool == "vllm" and level.concurrency == 16
    assert level.output_tokens_per_second == pytest.approx(256.0)
    # 102,400 input tokens over 50 s = 2,048 input tok/s.
    assert level.input_tokens_per_second == pytest.approx(2048.0)
    assert level.ttft_ms is not None and level.ttft_ms.p99 == pytest.approx(300.0)
    assert result.capacity_at_slo(None, 50.0) == pytest.approx((256.0, 2048.0, 2.0))


def test_compare_matches_levels(result: BenchResult) -> None:
    faster = BenchResult(levels=[closed_level(1, 0.05, 110), closed_level(2, 0.15, 198)])
    rows = compare(result, faster)
    assert [r.load for r in rows] == ["concurrency 1", "concurrency 2", "saturation"]
    assert rows[0].output_tokens_per_second_change == pytest.approx(0.10)
    assert rows[2].output_tokens_per_second_a == pytest.approx(200.0)


def test_cli_compare_show_and_errors(result: BenchResult, tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    result.save(a)
    result.save(b)
    runner = CliRunner()
    out = runner.invoke(app, ["bench", "compare", str(a), str(b), "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)[0]["output_tokens_per_second_change"] == 0.0
    shown = runner.invoke(app, ["bench", "show", str(a), "--hourly", "3.6", "--format", "json"])
    assert json.loads(shown.output)["levels"][0]["usd_per_mtok_output"] == pytest.approx(10.0)
    missing = runner.invoke(app, ["bench", "show", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    no_endpoint = runner.invoke(app, ["bench"])
    assert no_endpoint.exit_code == 2 and "--endpoint" in no_endpoint.output


DATA = Path(__file__).resolve().parents[1] / "data"


def test_guidellm_import_reproduces_its_own_figures() -> None:
    path = DATA / "guidellm_0.8.1_concurrent4.json"
    raw = json.loads(path.read_text())
    reported = raw["benchmarks"][0]["metrics"]
    result = load_result(path)
    level = result.levels[0]
    assert result.tool == "guidellm" and result.model == "tiny"
    assert level.concurrency == 4 and level.requests_completed == 40
    # GuideLLM's own throughput (total output tokens / benchmark duration): 706.12 tok/s.
    expected_tps = reported["output_tokens_per_second"]["successful"]["mean"]
    assert level.output_tokens_per_second == pytest.approx(expected_tps, rel=1e-6)
    assert level.ttft_ms is not None
    assert level.ttft_ms.mean == pytest.approx(
        reported["time_to_first_token_ms"]["successful"]["mean"], rel=1e-6
    )
    # Every request asked for and got 64 tokens.
    assert all(r.output_tokens == 64 for r in level.requests)


def test_scenario_peak_from_a_scenario_file(tmp_path: Path) -> None:
    import importlib

    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "workload: {input_tokens_per_month: 8B, output_tokens_per_month: 2B, peak_to_mean: 3}\n"
        "options: [{name: a, api: {input_per_mtok: 1, output_per_mtok: 5}}]\n"
    )
    app = typer.Typer()
    register(app)
    args = ["bench", "--endpoint", "http://127.0.0.1:9", "--model", "m", "--requests", "1"]
    out = CliRunner().invoke(app, [*args, "--scenario", str(scenario), "--format", "json"])
    try:
        importlib.import_module("llm_tco.scenario")
        importlib.import_module("llm_tco.resolve")
    except ModuleNotFoundError:  # a build without the scenario reader says so in one line
        assert out.exit_code == 2 and "scenario reader" in out.output
        return
    # Port 9 refuses: the result is still printed, and the exit status says nothing succeeded.
    assert out.exit_code == 1, out.output
    data = json.loads(out.stdout)
    # 2B output tokens / (720 h x 3600 s) x 3 = 2,314.8 tok/s at peak.
    assert data["peak"]["output_tokens_per_second"] == pytest.approx(2314.81, rel=1e-5)
    # Nothing was served (port 9 refuses), so no deployment count follows.
    assert data["deployments_needed"] is None
