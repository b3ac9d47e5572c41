"""What a benchmark report shows, as display strings: the levels, the settings, the charts.

One result (``llm-tco report RESULT.json``) or two side by side (``llm-tco bench compare A B
--html``). Every figure is a field of the :class:`~llm_tco.bench.result.BenchResult`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from llm_tco.bench.compare import CompareRow, compare
from llm_tco.bench.metrics import Percentiles, slo_attainment
from llm_tco.bench.result import BenchResult, LevelResult, Slo
from llm_tco.report.bench_charts import Run, bench_charts, knee
from llm_tco.report.table import Table


class BenchView(BaseModel):
    title: str
    headline: str
    tables: dict[str, Table]
    warnings: list[str]


class BenchReport(BaseModel):
    """Everything a benchmark report renders: its view and its chart specs."""

    view: BenchView
    charts: dict[str, dict[str, Any]]


def _num(value: float | None, fmt: str = "{:,.1f}") -> str:
    return "-" if value is None else fmt.format(value)


def _pct(dist: Percentiles | None, name: str) -> str:
    return "-" if dist is None else f"{getattr(dist, name):,.1f}"


def _level_row(
    level: LevelResult, knee_level: LevelResult | None, knee_name: str, slo: Slo | None
) -> list[str]:
    return [
        level.label,
        str(level.requests_completed),
        str(level.requests_failed),
        _num(level.requests_per_second, "{:,.2f}"),
        _num(level.output_tokens_per_second),
        _pct(level.ttft_ms, "p50"),
        _pct(level.ttft_ms, "p90"),
        _pct(level.tpot_ms, "p50"),
        _pct(level.tpot_ms, "p90"),
        _num(level.usd_per_mtok_output, "${:,.4f}"),
        _slo_cell(level, slo),
        knee_name if level is knee_level else "",
    ]


def _slo_cell(level: LevelResult, slo: Slo | None) -> str:
    """The level's SLO attainment, or whether it met the SLO (imported levels keep no
    per-request data: judged on their percentiles by :meth:`LevelResult.meets`)."""
    if slo is None or (slo.ttft_ms is None and slo.tpot_ms is None):
        return "-"
    met = "yes" if level.meets(slo.ttft_ms, slo.tpot_ms, slo.attainment) else "no"
    if level.requests:
        return f"{met} ({slo_attainment(level.requests, slo.ttft_ms, slo.tpot_ms):.0%})"
    return met


def levels_table(result: BenchResult, title: str) -> Table:
    knee_level, knee_name = knee(result)
    return Table(
        title=title,
        columns=[
            "load",
            "completed",
            "failed",
            "req/s",
            "out tok/s",
            "TTFT p50 ms",
            "TTFT p90 ms",
            "TPOT p50 ms",
            "TPOT p90 ms",
            "$/MTok out",
            "meets SLO",
            "",
        ],
        align=["left", *(["right"] * 10), "left"],
        rows=[_level_row(lv, knee_level, knee_name, result.slo) for lv in result.levels],
    )


def settings_table(result: BenchResult, title: str) -> Table:
    rows = [
        ["tool", result.tool],
        ["endpoint", result.endpoint or "-"],
        ["model", result.model or "-"],
        ["api", result.api],
        ["profile", result.profile],
        ["created", result.created_at.strftime("%Y-%m-%d %H:%M UTC")],
    ]
    rows += [[f"workload: {key}", str(value)] for key, value in result.workload.items()]
    if result.slo is not None:
        slo = result.slo
        targets = [
            f"TTFT <= {slo.ttft_ms:g} ms" if slo.ttft_ms else "",
            f"TPOT <= {slo.tpot_ms:g} ms" if slo.tpot_ms else "",
        ]
        rows.append(["SLO", ", ".join(t for t in targets if t) + f" for {slo.attainment:.0%}"])
    if result.pricing is not None:
        p = result.pricing
        gpus = f" ({p.gpu_count} x {p.gpu})" if p.gpu else ""
        rows.append(["price", f"${p.hourly_usd:g}/hour{gpus}, from {p.source}"])
    if result.deployments_needed is not None and result.peak is not None:
        rows.append(
            [
                "deployments for the peak",
                f"{result.deployments_needed} for "
                f"{result.peak.output_tokens_per_second:,.0f} output tok/s ({result.peak.source})",
            ]
        )
    return Table(title=title, columns=["setting", "value"], align=["left", "left"], rows=rows)


def _headline(result: BenchResult) -> str:
    level, name = knee(result)
    if level is None:
        return name or "the result has no load levels"
    text = f"{name}: {level.label}, {level.output_tokens_per_second:,.1f} output tokens/s"
    if level.usd_per_mtok_output is not None:
        text += f" at ${level.usd_per_mtok_output:,.4f} per million output tokens"
    return text


def _warnings(result: BenchResult, prefix: str = "") -> list[str]:
    notes = list(result.notes)
    if result.interrupted:
        notes.append("the run was interrupted: later load levels are missing")
    for level in result.levels:
        if level.errors:
            kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(level.errors.items()))
            notes.append(f"{level.label}: failed requests by kind: {kinds}")
    return [prefix + n for n in notes]


def _name(result: BenchResult) -> str:
    return result.model or result.endpoint or result.tool


def build_bench_report(result: BenchResult) -> BenchReport:
    view = BenchView(
        title=f"Benchmark: {_name(result)}",
        headline=_headline(result),
        tables={
            "levels": levels_table(result, "Load levels"),
            "settings": settings_table(result, "Settings"),
        },
        warnings=_warnings(result),
    )
    return BenchReport(view=view, charts=bench_charts([("run", result)]))


def compare_table(rows: list[CompareRow]) -> Table:
    return Table(
        title="A against B at each load both measured, and at saturation",
        columns=[
            "load",
            "out tok/s A",
            "out tok/s B",
            "change",
            "TPOT p50 A",
            "TPOT p50 B",
            "TTFT p50 A",
            "TTFT p50 B",
            "$/MTok out A",
            "$/MTok out B",
        ],
        align=["left", *(["right"] * 9)],
        rows=[
            [
                r.load,
                _num(r.output_tokens_per_second_a),
                _num(r.output_tokens_per_second_b),
                _num(r.output_tokens_per_second_change, "{:+.1%}"),
                _num(r.tpot_p50_ms_a),
                _num(r.tpot_p50_ms_b),
                _num(r.ttft_p50_ms_a),
                _num(r.ttft_p50_ms_b),
                _num(r.usd_per_mtok_output_a, "${:,.4f}"),
                _num(r.usd_per_mtok_output_b, "${:,.4f}"),
            ]
            for r in rows
        ],
    )


def build_compare_report(a: Run, b: Run) -> BenchReport:
    """Two results side by side: the comparison table, each one's levels, both on each chart."""
    (name_a, result_a), (name_b, result_b) = a, b
    runs = [(f"A {name_a}", result_a), (f"B {name_b}", result_b)]
    view = BenchView(
        title=f"Benchmark comparison: A {name_a} against B {name_b}",
        headline=f"A: {_headline(result_a)}. B: {_headline(result_b)}.",
        tables={
            "compare": compare_table(compare(result_a, result_b)),
            "levels_a": levels_table(result_a, f"A: {name_a}"),
            "levels_b": levels_table(result_b, f"B: {name_b}"),
        },
        warnings=_warnings(result_a, "A: ") + _warnings(result_b, "B: "),
    )
    return BenchReport(view=view, charts=bench_charts(runs))
