"""Benchmark charts and reports: every plotted point is a level of the result, the knee is the
highest load meeting the SLO, and the report commands read a result file by its content."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from llm_tco.bench import BenchResult, LevelResult, Pricing, Slo
from llm_tco.bench.metrics import RequestRecord
from llm_tco.cli import app as cli_app
from llm_tco.report.bench_charts import bench_charts, cost_chart, latency_chart
from llm_tco.report.bench_view import build_bench_report

XSS = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


def closed_level(concurrency: int, ttft_s: float, tokens_per_request: int) -> LevelResult:
    """10 requests back to back, each 1 s long: 10 x tokens over 10 s = ``tokens`` tok/s.

    Each request's time per output token is (1 s - TTFT) / (tokens - 1).
    """
    records = [
        RequestRecord(
            start_s=float(i),
            first_token_s=i + ttft_s,
            end_s=i + 1.0,
            input_tokens=100,
            output_tokens=tokens_per_request,
        )
        for i in range(10)
    ]
    return LevelResult(concurrency=concurrency, requests=records)


def make_result(slo: Slo | None = Slo(ttft_ms=200.0), hourly: float | None = 3.6) -> BenchResult:
    # concurrency 1: 100 tok/s, TTFT 50 ms; 2: 180 tok/s, TTFT 150 ms; 4: 200 tok/s, TTFT 900 ms.
    levels = [closed_level(1, 0.05, 100), closed_level(2, 0.15, 180), closed_level(4, 0.9, 200)]
    result = BenchResult(endpoint="http://127.0.0.1:1", model=XSS, levels=levels, slo=slo)
    return result.with_pricing(Pricing(hourly_usd=hourly)) if hourly is not None else result


def test_latency_points_are_the_levels() -> None:
    result = make_result()
    spec = latency_chart([("run", result)])
    assert spec is not None
    rows = spec["datasets"]["levels"]
    assert [(r["load"], r["percentile"]) for r in rows] == [
        (f"concurrency {c}", p) for c in (1, 2, 4) for p in ("p50", "p90")
    ]
    assert [r["output_tokens_per_second"] for r in rows[::2]] == pytest.approx([100, 180, 200])
    # TPOT at concurrency 1: (1 s - 0.05 s) / 99 tokens = 9.596 ms, the same for every request.
    assert rows[0]["tpot_ms"] == pytest.approx(950 / 99)
    for level, p50, p90 in zip(result.levels, rows[::2], rows[1::2], strict=True):
        assert level.tpot_ms is not None
        assert (p50["tpot_ms"], p90["tpot_ms"]) == (level.tpot_ms.p50, level.tpot_ms.p90)


def test_cost_points_are_the_levels_and_the_knee_meets_the_slo() -> None:
    spec = cost_chart([("run", make_result())])
    assert spec is not None
    rows = spec["datasets"]["levels"]
    assert [r["load_value"] for r in rows] == [1, 2, 4]
    # $3.60/hour / (3,600 s x tok/s) x 1e6: $10.00 at 100, $5.556 at 180, $5.00 at 200 tok/s.
    assert [r["usd_per_mtok_output"] for r in rows] == pytest.approx([10.0, 50 / 9, 5.0])
    # TTFT <= 200 ms: concurrency 1 (50 ms) and 2 (150 ms) pass, 4 (900 ms) fails.
    [knee] = spec["datasets"]["knee"]
    assert knee["load_value"] == 2 and knee["usd_per_mtok_output"] == pytest.approx(50 / 9)
    assert knee["label"] == "SLO knee: concurrency 2, 180 tok/s"


def test_knee_is_saturation_without_slo_and_absent_when_none_meets() -> None:
    [knee] = latency_chart([("run", make_result(slo=None))])["datasets"]["knee"]  # type: ignore[index]
    assert knee["output_tokens_per_second"] == pytest.approx(200)
    assert knee["label"].startswith("saturation: concurrency 4")
    strict = make_result(slo=Slo(ttft_ms=10.0))
    assert latency_chart([("run", strict)])["datasets"]["knee"] == []  # type: ignore[index]
    assert build_bench_report(strict).view.headline == "no level meets the SLO"


def test_unpriced_result_has_no_cost_chart() -> None:
    assert list(bench_charts([("run", make_result(hourly=None))])) == ["latency"]


def test_report_levels_table() -> None:
    report = build_bench_report(make_result())
    assert report.view.headline == (
        "SLO knee: concurrency 2, 180.0 output tokens/s at $5.5556 per million output tokens"
    )
    rows = report.view.tables["levels"].rows
    assert [r[4] for r in rows] == ["100.0", "180.0", "200.0"]
    assert [r[-2] for r in rows] == ["yes (100%)", "yes (100%)", "no (0%)"]
    assert [r[-1] for r in rows] == ["", "SLO knee", ""]


def test_cli_report_reads_a_bench_result(tmp_path: Path) -> None:
    source = tmp_path / "run.json"
    make_result().save(source)
    html = tmp_path / "bench.html"
    run = CliRunner().invoke(cli_app, ["report", str(source), "-o", str(html)])
    assert run.exit_code == 0, run.output
    text = html.read_text()
    assert XSS not in text and f"Benchmark: {ESCAPED}" in text
    assert 'id="chart-latency"' in text and 'id="chart-cost"' in text
    assert "<script src" not in text  # self-contained

    markdown = tmp_path / "bench.md"
    run = CliRunner().invoke(cli_app, ["report", str(source), "-o", str(markdown)])
    assert run.exit_code == 0, run.output
    assert "![cost chart](bench-cost.png)" in markdown.read_text()
    assert (tmp_path / "bench-latency.png").read_bytes().startswith(b"\x89PNG")


def test_bench_compare_writes_both_runs_on_each_chart(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    make_result().save(a)
    make_result(hourly=7.2).save(b)
    out = tmp_path / "compare.html"
    run = CliRunner().invoke(cli_app, ["bench", "compare", str(a), str(b), "--html", str(out)])
    assert run.exit_code == 0, run.output
    text = out.read_text()
    assert "A a.json: USD per MTok output" in text and "B b.json: USD per MTok output" in text
    # B at twice the price: $20.00 per MTok at 100 tok/s where A pays $10.00.
    assert "$10.0000" in text and "$20.0000" in text
