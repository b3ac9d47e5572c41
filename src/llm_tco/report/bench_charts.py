"""Vega-Lite specs for benchmark results: throughput against latency, cost per MTok against load,
with the SLO knee marked. Rendered like every report chart (page, HTML, PNG via vl-convert).

Every plotted number is a field of a :class:`~llm_tco.bench.result.LevelResult`; the knee is the
level :meth:`~llm_tco.bench.result.BenchResult.best_level` picks. Nothing is computed here.
"""

from __future__ import annotations

import functools
from typing import Any

from llm_tco.bench.result import BenchResult, LevelResult
from llm_tco.errors import BenchError
from llm_tco.report.charts import CHART_WIDTH_PX, ChartSpec, with_data

# A run is a result with the label it is shown under (one run, or A and B in a comparison).
Run = tuple[str, BenchResult]
PERCENTILES = ("p50", "p90")
# Only powers of two are labelled on the base-2 load axis.
DOUBLING = "abs(log(datum.value) / LN2 - round(log(datum.value) / LN2)) < 1e-6"


def load_of(level: LevelResult, index: int) -> float:
    """Where a level sits on the load axis: its concurrency, else its offered rate, else its
    position in the run (a replayed trace has neither)."""
    if level.concurrency is not None:
        return float(level.concurrency)
    if level.rate is not None:
        return level.rate
    return float(index + 1)


def load_title(runs: list[Run]) -> str:
    levels = [lv for _, result in runs for lv in result.levels]
    if levels and all(lv.concurrency is not None for lv in levels):
        return "concurrency (requests in flight)"
    if levels and all(lv.rate is not None for lv in levels):
        return "offered load (requests/s)"
    return "load level"


def knee(result: BenchResult) -> tuple[LevelResult | None, str]:
    """The highest-throughput level meeting the result's SLO, or the saturation level when the
    result has no SLO; with what it is called on the chart."""
    slo = result.slo
    targets = (slo.ttft_ms, slo.tpot_ms) if slo else (None, None)
    if not result.levels:
        return None, ""
    try:
        level = result.best_level(*targets)
    except BenchError:
        return None, "no level meets the SLO"
    return level, "SLO knee" if any(t is not None for t in targets) else "saturation"


def _series(run: str, name: str, runs: list[Run]) -> str:
    return name if len(runs) == 1 else f"{run}: {name}"


def _latency_rows(runs: list[Run]) -> list[dict[str, Any]]:
    rows = []
    for run, result in runs:
        for index, level in enumerate(result.levels):
            if level.tpot_ms is None:
                continue
            for pct in PERCENTILES:
                rows.append(
                    {
                        "series": _series(run, f"TPOT {pct}", runs),
                        "percentile": pct,
                        "order": index,
                        "load": level.label,
                        "output_tokens_per_second": level.output_tokens_per_second,
                        "tpot_ms": getattr(level.tpot_ms, pct),
                    }
                )
    return rows


def _cost_rows(runs: list[Run]) -> list[dict[str, Any]]:
    return [
        {
            "series": _series(run, "USD per MTok output", runs),
            "load_value": load_of(level, index),
            "load": level.label,
            "usd_per_mtok_output": level.usd_per_mtok_output,
            "output_tokens_per_second": level.output_tokens_per_second,
        }
        for run, result in runs
        for index, level in enumerate(result.levels)
        if level.usd_per_mtok_output is not None
    ]


def _knee_rows(runs: list[Run]) -> list[dict[str, Any]]:
    rows = []
    for run, result in runs:
        level, name = knee(result)
        if level is None:
            continue
        index = result.levels.index(level)
        tps = level.output_tokens_per_second
        rows.append(
            {
                "label": _series(run, f"{name}: {level.label}, {tps:,.0f} tok/s", runs),
                "load_value": load_of(level, index),
                "output_tokens_per_second": tps,
                "tpot_ms": level.tpot_ms.p50 if level.tpot_ms else None,
                "usd_per_mtok_output": level.usd_per_mtok_output,
            }
        )
    return rows


def latency_chart(runs: list[Run]) -> ChartSpec | None:
    """Output tokens/s against TPOT p50 and p90, one point per load level, knee marked."""
    rows = _latency_rows(runs)
    if not rows:
        return None
    targets = [
        {"tpot_ms": r.slo.tpot_ms, "label": _series(run, f"TPOT SLO {r.slo.tpot_ms:g} ms", runs)}
        for run, r in runs
        if r.slo is not None and r.slo.tpot_ms is not None
    ]
    knees = [k for k in _knee_rows(runs) if k["tpot_ms"] is not None]
    spec = with_data(_latency_template(), {"levels": rows, "knee": knees, "slo": targets})
    spec["title"] = {
        "text": "Throughput against latency",
        "subtitle": "one point per load level; diamond: the highest load meeting the SLO",
    }
    return spec


def cost_chart(runs: list[Run]) -> ChartSpec | None:
    """USD per million output tokens at each load level (priced results only), knee marked."""
    rows = _cost_rows(runs)
    if not rows:
        return None
    knees = [k for k in _knee_rows(runs) if k["usd_per_mtok_output"] is not None]
    spec = with_data(_cost_template(load_title(runs)), {"levels": rows, "knee": knees})
    spec["title"] = {
        "text": "Cost per million output tokens by load",
        "subtitle": "hourly price / (3,600 x measured output tokens/s) x 1e6",
    }
    return spec


def bench_charts(runs: list[Run]) -> dict[str, ChartSpec]:
    charts = {"latency": latency_chart(runs), "cost": cost_chart(runs)}
    return {name: spec for name, spec in charts.items() if spec is not None}


def _knee_layers(x: Any, y: Any) -> list[Any]:
    import altair as alt

    knee_data = alt.NamedData(name="knee")
    point = (
        alt.Chart(knee_data)
        .mark_point(shape="diamond", size=160, filled=True, color="black")
        .encode(x=x, y=y, tooltip=[alt.Tooltip("label:N", title="knee")])
    )
    label = (
        alt.Chart(knee_data)
        .mark_text(align="left", dx=8, dy=-10, fontSize=11, fontWeight="bold")
        .encode(x=x, y=y, text="label:N")
    )
    return [point, label]


@functools.cache
def _latency_template() -> ChartSpec:
    import altair as alt

    x = alt.X("output_tokens_per_second:Q", title="output tokens per second")
    y = alt.Y("tpot_ms:Q", title="time per output token, ms")
    lines = (
        alt.Chart(alt.NamedData(name="levels"))
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=x,
            y=y,
            color=alt.Color("series:N", sort=None, title=None, legend=alt.Legend(orient="bottom")),
            # p90 dashed: the series name says which, the dash tells them apart where they meet.
            strokeDash=alt.StrokeDash("percentile:N", sort=list(PERCENTILES), legend=None),
            order="order:Q",
            tooltip=[
                alt.Tooltip("series:N"),
                alt.Tooltip("load:N"),
                alt.Tooltip("output_tokens_per_second:Q", format=",.1f", title="out tok/s"),
                alt.Tooltip("tpot_ms:Q", format=",.1f", title="ms"),
            ],
        )
    )
    slo = alt.Chart(alt.NamedData(name="slo"))
    target = slo.mark_rule(strokeDash=[4, 4], color="#c0392b").encode(y="tpot_ms:Q")
    target_label = slo.mark_text(align="left", dx=4, dy=-6, color="#c0392b").encode(
        x=alt.value(0), y="tpot_ms:Q", text="label:N"
    )
    chart = alt.layer(lines, target, target_label, *_knee_layers(x, y)).properties(
        width=CHART_WIDTH_PX, height=320
    )
    return chart.to_dict(validate=False)


@functools.cache
def _cost_template(x_title: str) -> ChartSpec:
    import altair as alt

    # Loads are usually swept in doublings (1, 2, 4 ... in flight): a base-2 log axis.
    x = alt.X(
        "load_value:Q",
        title=x_title,
        scale=alt.Scale(type="log", base=2),
        axis=alt.Axis(labelExpr=f"{DOUBLING} ? format(datum.value, '~g') : ''", grid=False),
    )
    y = alt.Y(
        "usd_per_mtok_output:Q",
        title="USD per million output tokens",
        axis=alt.Axis(format="$.3~g"),
    )
    lines = (
        alt.Chart(alt.NamedData(name="levels"))
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=x,
            y=y,
            color=alt.Color("series:N", sort=None, title=None, legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("series:N"),
                alt.Tooltip("load:N"),
                alt.Tooltip("usd_per_mtok_output:Q", format="$,.4f", title="USD/MTok out"),
                alt.Tooltip("output_tokens_per_second:Q", format=",.1f", title="out tok/s"),
            ],
        )
    )
    chart = alt.layer(lines, *_knee_layers(x, y)).properties(width=CHART_WIDTH_PX, height=280)
    return chart.to_dict(validate=False)
