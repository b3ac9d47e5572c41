"""Compare two benchmark results level by level (same concurrency or rate), and at saturation."""

from __future__ import annotations

from pydantic import BaseModel
from rich.table import Table

from llm_tco.bench.result import BenchResult, LevelResult


class CompareRow(BaseModel):
    """One load level in both results; ``*_change`` is (B - A) / A, None where A is zero."""

    load: str
    output_tokens_per_second_a: float
    output_tokens_per_second_b: float
    output_tokens_per_second_change: float | None
    ttft_p50_ms_a: float | None
    ttft_p50_ms_b: float | None
    tpot_p50_ms_a: float | None
    tpot_p50_ms_b: float | None
    usd_per_mtok_output_a: float | None
    usd_per_mtok_output_b: float | None


def _key(level: LevelResult) -> str:
    if level.concurrency is not None:
        return f"concurrency {level.concurrency}"
    return level.label


def _change(a: float, b: float) -> float | None:
    return (b - a) / a if a else None


def _row(load: str, a: LevelResult, b: LevelResult) -> CompareRow:
    return CompareRow(
        load=load,
        output_tokens_per_second_a=a.output_tokens_per_second,
        output_tokens_per_second_b=b.output_tokens_per_second,
        output_tokens_per_second_change=_change(
            a.output_tokens_per_second, b.output_tokens_per_second
        ),
        ttft_p50_ms_a=a.ttft_ms.p50 if a.ttft_ms else None,
        ttft_p50_ms_b=b.ttft_ms.p50 if b.ttft_ms else None,
        tpot_p50_ms_a=a.tpot_ms.p50 if a.tpot_ms else None,
        tpot_p50_ms_b=b.tpot_ms.p50 if b.tpot_ms else None,
        usd_per_mtok_output_a=a.usd_per_mtok_output,
        usd_per_mtok_output_b=b.usd_per_mtok_output,
    )


def compare(a: BenchResult, b: BenchResult) -> list[CompareRow]:
    """Rows for the loads both results measured, then one for each result's saturation level."""
    levels_b = {_key(lv): lv for lv in b.levels}
    rows = [_row(_key(lv), lv, levels_b[_key(lv)]) for lv in a.levels if _key(lv) in levels_b]
    if a.levels and b.levels:
        rows.append(_row("saturation", a.best_level(None, None), b.best_level(None, None)))
    return rows


def _num(value: float | None, fmt: str = "{:,.1f}") -> str:
    return "-" if value is None else fmt.format(value)


def compare_table(rows: list[CompareRow], name_a: str, name_b: str) -> Table:
    table = Table(title=f"A = {name_a}   B = {name_b}", title_justify="left")
    for column in (
        "load",
        "out tok/s A",
        "out tok/s B",
        "change",
        "TTFT p50 A",
        "TTFT p50 B",
        "TPOT p50 A",
        "TPOT p50 B",
        "$/MTok out A",
        "$/MTok out B",
    ):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            row.load,
            _num(row.output_tokens_per_second_a),
            _num(row.output_tokens_per_second_b),
            _num(row.output_tokens_per_second_change, "{:+.1%}"),
            _num(row.ttft_p50_ms_a),
            _num(row.ttft_p50_ms_b),
            _num(row.tpot_p50_ms_a),
            _num(row.tpot_p50_ms_b),
            _num(row.usd_per_mtok_output_a, "${:,.4f}"),
            _num(row.usd_per_mtok_output_b, "${:,.4f}"),
        )
    return table
