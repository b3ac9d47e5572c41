"""Vega-Lite chart specs for a Result, built once with altair and rendered three ways.

The same spec dict is embedded interactively in the web page, inlined in the HTML report and
converted to PNG/SVG for Markdown with ``vl-convert`` (offline, no browser). Nothing here
computes a cost: the curves are sweep rows the core evaluated at :func:`curve_volumes`.
"""

from __future__ import annotations

import math
from typing import Any

from llm_tco.core.units import format_tokens, format_usd
from llm_tco.result import Result, SweepRow

ChartSpec = dict[str, Any]

CURVE_POINTS = 49  # log-spaced volumes per curve: 12 per decade over 4 decades looks smooth
CHART_WIDTH_PX = 640
# Vega's SI format writes 1e9 as "1G"; token counts read better as "1B".
SI_TOKENS = "replace(format(datum.value, '~s'), 'G', 'B')"
SI_USD = "'$' + replace(format(datum.value, '~s'), 'G', 'B')"


def curve_volumes(result: Result, points: int = CURVE_POINTS) -> list[float]:
    """Volumes (tokens/month) to draw the cost curves at.

    Log-spaced from half the smallest to twice the largest of: the scenario's volume, its sweep
    volumes and every break-even; each of those volumes is included exactly so that the markers
    sit on the curves.
    """
    marks = [result.workload.total_tokens_per_month]
    marks += [row.tokens_per_month for row in result.sweep]
    marks += [c.tokens_per_month for b in result.breakeven for c in b.crossings]
    marks = [v for v in marks if v > 0 and math.isfinite(v)]
    if not marks:
        marks = [1e6, 1e11]
    low, high = math.log10(min(marks) / 2), math.log10(max(marks) * 2)
    step = (high - low) / (points - 1)
    grid = [10 ** (low + i * step) for i in range(points)]
    return sorted(set(grid) | set(marks))


def decades(values: list[float]) -> list[float]:
    """Powers of ten spanning ``values`` (axis ticks; a log axis labels every minor tick)."""
    positive = [v for v in values if v > 0 and math.isfinite(v)]
    if not positive:
        return []
    low, high = math.floor(math.log10(min(positive))), math.ceil(math.log10(max(positive)))
    return [10.0**k for k in range(low, high + 1)]


def _curve_rows(curve: list[SweepRow]) -> list[dict[str, Any]]:
    return [
        {
            "option": name,
            "tokens_per_month": row.tokens_per_month,
            "monthly_usd": cost,
            "volume": format_tokens(row.tokens_per_month),
            "cost": format_usd(cost),
            "beyond_capacity": name in row.over_capacity,
        }
        for row in curve
        for name, cost in row.costs.items()
    ]


def _breakeven_rows(result: Result, curve: list[SweepRow]) -> list[dict[str, Any]]:
    """Break-even markers; labels alternate above and below the point so neighbours part."""
    at_volume = {row.tokens_per_month: row for row in curve}
    rows = []
    for b in result.breakeven:
        for crossing in b.crossings:
            row = at_volume.get(crossing.tokens_per_month)
            if row is None or b.option not in row.costs:
                continue
            cost = row.costs[b.option]
            rows.append(
                {
                    "tokens_per_month": crossing.tokens_per_month,
                    "monthly_usd": cost,
                    "label": format_tokens(crossing.tokens_per_month),
                    "pair": f"{b.option} = {b.versus}",
                    "cheaper_above": crossing.cheaper_above,
                    "cost": format_usd(cost),
                }
            )
    rows.sort(key=lambda r: r["tokens_per_month"])
    for i, row in enumerate(rows):
        row["above"] = i % 2 == 0
    return rows


def cost_curve_chart(result: Result, curve: list[SweepRow]) -> ChartSpec:
    """Monthly cost of every option against monthly volume; log-log, break-evens labelled."""
    import altair as alt

    rows = _curve_rows(curve)
    x = alt.X(
        "tokens_per_month:Q",
        scale=alt.Scale(type="log", nice=False),
        axis=alt.Axis(
            title="tokens per month", labelExpr=SI_TOKENS,
            values=decades([r["tokens_per_month"] for r in rows]),
        ),
    )
    y = alt.Y(
        "monthly_usd:Q",
        scale=alt.Scale(type="log"),
        axis=alt.Axis(
            title="USD per month", labelExpr=SI_USD,
            values=decades([r["monthly_usd"] for r in rows]),
        ),
    )
    names = [o.name for o in result.options]
    color = alt.Color("option:N", scale=alt.Scale(domain=names), legend=alt.Legend(orient="bottom"))
    lines = (
        alt.Chart(alt.Data(values=rows))
        .mark_line(strokeWidth=2.5, interpolate="linear")
        .encode(
            x=x,
            y=y,
            color=color,
            tooltip=[
                alt.Tooltip("option:N"),
                alt.Tooltip("volume:N", title="tokens/month"),
                alt.Tooltip("cost:N", title="monthly cost"),
                alt.Tooltip("beyond_capacity:N", title="beyond capacity"),
            ],
        )
    )
    volume = result.workload.total_tokens_per_month
    now = alt.Data(values=[{"tokens_per_month": volume, "label": f"now: {format_tokens(volume)}"}])
    rule = alt.Chart(now).mark_rule(strokeDash=[4, 4], color="#555").encode(x=x)
    rule_label = (
        alt.Chart(now)
        .mark_text(align="left", dx=4, dy=-4, baseline="top", color="#333")
        .encode(x=x, y=alt.value(0), text="label:N")
    )
    layers = [lines, rule, rule_label]
    crossings = _breakeven_rows(result, curve)
    if crossings:
        data = alt.Data(values=crossings)
        tooltip = [
            alt.Tooltip("pair:N", title="break-even"),
            alt.Tooltip("label:N", title="tokens/month"),
            alt.Tooltip("cheaper_above:N", title="cheaper above"),
            alt.Tooltip("cost:N", title="monthly cost"),
        ]
        points = (
            alt.Chart(data)
            .mark_point(shape="diamond", size=120, filled=True, color="black")
            .encode(x=x, y=y, tooltip=tooltip)
        )
        labels = [
            alt.Chart(data)
            .transform_filter(f"datum.above == {'true' if above else 'false'}")
            .mark_text(align="center", dy=-12 if above else 14, fontSize=11, fontWeight="bold")
            .encode(x=x, y=y, text="label:N", tooltip=tooltip)
            for above in (True, False)
        ]
        layers += [points, *labels]
    chart = alt.layer(*layers).properties(
        width=CHART_WIDTH_PX,
        height=340,
        title=alt.TitleParams(
            "Monthly cost by monthly volume",
            subtitle="diamonds: break-even volumes (hover for the pair)",
        ),
    )
    return chart.to_dict(validate=False)


def breakdown_chart(result: Result) -> ChartSpec:
    """Line items of every option at the scenario's volume, stacked."""
    import altair as alt

    rows = [
        {
            "option": option.name,
            "item": line.name,
            "monthly_usd": line.monthly_usd,
            "cost": format_usd(line.monthly_usd),
            "formula": line.formula,
        }
        for option in result.options
        for line in option.line_items
    ]
    chart = (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            y=alt.Y("option:N", sort=[o.name for o in result.options], title=None),
            x=alt.X("sum(monthly_usd):Q", title="USD per month", axis=alt.Axis(format="$,.0f")),
            color=alt.Color("item:N", title="line item", legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("option:N"),
                alt.Tooltip("item:N"),
                alt.Tooltip("cost:N", title="USD/month"),
                alt.Tooltip("formula:N", title="how"),
            ],
        )
        .properties(
            width=CHART_WIDTH_PX,
            height=max(60, 34 * len(result.options)),
            title=f"Cost breakdown at {format_tokens(result.workload.total_tokens_per_month)} "
            "tokens/month",
        )
    )
    return chart.to_dict(validate=False)


def build_charts(result: Result, curve: list[SweepRow]) -> dict[str, ChartSpec]:
    """Every chart of a report, by name."""
    return {"cost_curve": cost_curve_chart(result, curve), "breakdown": breakdown_chart(result)}


def to_png(spec: ChartSpec, scale: float = 2.0) -> bytes:
    """Render a spec to PNG offline (vl-convert bundles Vega; no browser)."""
    import vl_convert

    return bytes(vl_convert.vegalite_to_png(spec, scale=scale))


def to_svg(spec: ChartSpec) -> str:
    import vl_convert

    return str(vl_convert.vegalite_to_svg(spec))
