"""The page's "ways to serve this model" table and cost vs latency scatter, and the table of
suggestions: display strings and a Vega-Lite spec from fields of the Result, nothing computed."""

from __future__ import annotations

import functools
from typing import Any

from llm_tco.core.units import format_usd
from llm_tco.report.table import Table
from llm_tco.result import Result

ChartSpec = dict[str, Any]
CHART_WIDTH_PX = 640


def _ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def ways_tables(result: Result) -> dict[str, Table]:
    """``suggestions`` and one ``ways_to_serve`` table (the first self-hosted option's model;
    more options add ``ways_to_serve_2`` ...)."""
    tables: dict[str, Table] = {}
    if result.suggestions:
        kinds = {"hosted_api": "hosted API", "self_hosted": "self-hosted"}
        tables["suggestions"] = Table(
            title="Suggestions: ways you did not list (not your options)",
            columns=["for option", "kind", "suggestion", "monthly cost", "note"],
            align=["left", "left", "left", "right", "left"],
            rows=[
                [s.for_option, kinds[s.kind], s.name, format_usd(s.monthly_cost), s.note]
                for s in result.suggestions
            ],
        )
    for i, ways in enumerate(result.ways_to_serve):
        rows = []
        for d in ways.deployments:
            mark = "chosen" if ways.chosen is not None and d == ways.chosen else ""
            if d.pareto:
                mark = ", ".join(m for m in (mark, "front") if m)
            rows.append(
                [
                    f"{d.replicas} x {d.gpus_per_replica} x {d.gpu}",
                    d.precision,
                    d.engine,
                    f"{d.provider} {d.billing}",
                    format_usd(d.monthly_cost),
                    _ms(d.ttft_ms_at_load),
                    _ms(d.tpot_ms_at_load),
                    mark,
                ]
            )
        rows += [
            [
                f"{a.provider} API ({a.model})",
                "-",
                "-",
                f"${a.input_per_mtok:g} / ${a.output_per_mtok:g} per MTok",
                format_usd(a.monthly_cost),
                "-",
                "-",
                "hosted API",
            ]
            for a in ways.hosted_apis
        ]
        key = "ways_to_serve" if i == 0 else f"ways_to_serve_{i + 1}"
        tables[key] = Table(
            title=f"Ways to serve {ways.model} (for {ways.for_option})",
            columns=[
                "deployment",
                "prec.",
                "engine",
                "price",
                "monthly cost",
                "TTFT ms",
                "TPOT ms",
                "",
            ],
            align=["left", "left", "left", "left", "right", "right", "right", "left"],
            rows=rows,
            note=f"{ways.why}. {ways.feasible} feasible of {ways.searched} candidates; TTFT and "
            "TPOT at the peak load; front: no deployment is cheaper and faster",
        )
    return tables


def ways_charts(result: Result) -> dict[str, ChartSpec]:
    """Cost vs TPOT at load of the first option's ways to serve, the chosen point marked."""
    if not result.ways_to_serve or not result.ways_to_serve[0].deployments:
        return {}
    ways = result.ways_to_serve[0]
    rows = [
        {
            "deployment": f"{d.replicas} x {d.gpus_per_replica} x {d.gpu} {d.precision} "
            f"{d.engine}, {d.provider} {d.billing}",
            "monthly_usd": d.monthly_cost,
            "tpot_ms": d.tpot_ms_at_load,
            "ttft_ms": d.ttft_ms_at_load,
            "cost": format_usd(d.monthly_cost),
            "point": "chosen" if d == ways.chosen else ("front" if d.pareto else "other"),
        }
        for d in ways.deployments
    ]
    import copy

    spec = copy.deepcopy(_scatter_template())
    spec["datasets"] = {"ways": rows}
    spec["title"] = f"Ways to serve {ways.model}: monthly cost vs TPOT at the peak load"
    return {"ways_to_serve": spec}


@functools.cache
def _scatter_template() -> ChartSpec:
    import altair as alt

    chart = (
        alt.Chart(alt.NamedData(name="ways"))
        .mark_point(filled=True)
        .encode(
            x=alt.X(
                "monthly_usd:Q",
                title="USD per month",
                scale=alt.Scale(type="log"),
                axis=alt.Axis(format="$,.0f"),
            ),
            y=alt.Y("tpot_ms:Q", title="TPOT at peak load (ms)"),
            color=alt.Color(
                "point:N",
                title=None,
                scale=alt.Scale(domain=["chosen", "front", "other"]),
                legend=alt.Legend(orient="bottom"),
            ),
            size=alt.Size(
                "point:N",
                scale=alt.Scale(domain=["chosen", "front", "other"], range=[220, 70, 30]),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("deployment:N"),
                alt.Tooltip("cost:N", title="USD/month"),
                alt.Tooltip("ttft_ms:Q", title="TTFT ms", format=".0f"),
                alt.Tooltip("tpot_ms:Q", title="TPOT ms", format=".1f"),
            ],
        )
        .properties(width=CHART_WIDTH_PX, height=260)
    )
    return chart.to_dict(validate=False)  # type: ignore[no-any-return]
