"""Vega-Lite chart specs for a Result, built once with altair and rendered three ways.

The same spec dict is embedded interactively in the web page, inlined in the HTML report and
converted to PNG/SVG for Markdown with ``vl-convert`` (offline, no browser). Nothing here
computes a cost: the curves are sweep rows the core evaluated at :func:`curve_volumes`.
"""

from __future__ import annotations

import functools
import json
import math
from typing import TYPE_CHECKING, Any

from llm_tco.core.units import format_tokens, format_usd
from llm_tco.decide_result import Sensitivity, Simulation
from llm_tco.result import Result, SweepRow

if TYPE_CHECKING:
    from llm_tco.trace_sizing import TraceSizing

ChartSpec = dict[str, Any]

CHART_WIDTH_PX = 640
# Vega's SI format writes 1e9 as "1G"; token counts read better as "1B".
SI_TOKENS = "replace(format(datum.value, '~s'), 'G', 'B')"
SI_USD = "'$' + replace(format(datum.value, '~s'), 'G', 'B')"
SERVES_LABEL = "datum.value ? 'yes' : 'no (dashed)'"


def _curve_rows(curve: list[SweepRow]) -> list[dict[str, Any]]:
    """One row per option and volume; ``serves`` False where the option cannot serve it (drawn
    dashed). Where serving stops, the first point that cannot is repeated as serving so that
    the solid line reaches the dashed one."""
    rows: list[dict[str, Any]] = []
    before: dict[str, bool] = {}
    for row in curve:
        volume = format_tokens(row.tokens_per_month)
        for name, cost in row.costs.items():
            if not math.isfinite(cost):
                continue  # nothing to draw on a log axis
            serves = row.feasible.get(name, True)
            point = {
                "option": name,
                "tokens_per_month": row.tokens_per_month,
                "monthly_usd": cost,
                "volume": volume,
                "cost": format_usd(cost),
                "beyond_capacity": name in row.over_capacity,
                "serves": serves,
                "can_serve": "yes" if serves else "no: " + row.infeasible_reasons.get(name, ""),
            }
            if before.get(name) is not None and before[name] != serves:
                rows.append({**point, "serves": before[name]})
            before[name] = serves
            rows.append(point)
    return rows


def _breakeven_rows(result: Result, curve: list[SweepRow]) -> list[dict[str, Any]]:
    """Break-even markers; labels alternate above and below the point so neighbours part."""
    at_volume = {row.tokens_per_month: row for row in curve}
    rows: list[dict[str, Any]] = []
    for b in result.breakeven:
        for crossing in b.crossings:
            point = at_volume.get(crossing.tokens_per_month)
            if point is None or b.option not in point.costs:
                continue
            cost = point.costs[b.option]
            rows.append(
                {
                    "tokens_per_month": crossing.tokens_per_month,
                    "monthly_usd": cost,
                    "label": format_tokens(crossing.tokens_per_month),
                    "pair": f"{b.option} = {b.versus}",
                    "cheaper_above": crossing.cheaper_above
                    + ("" if crossing.feasible else f" (but {b.option} cannot serve there)"),
                    "cost": format_usd(cost),
                    "serves": crossing.feasible,
                }
            )
    rows.sort(key=lambda r: r["tokens_per_month"])
    for i, marker in enumerate(rows):
        marker["above"] = i % 2 == 0
    return rows


def cost_curve_chart(result: Result, curve: list[SweepRow]) -> ChartSpec:
    """Monthly cost of every option against monthly volume; log-log, break-evens labelled."""
    volume = result.workload.total_tokens_per_month
    return with_data(
        _cost_curve_template(),
        {
            "curves": _curve_rows(curve),
            "now": [{"tokens_per_month": volume, "label": f"now: {format_tokens(volume)}"}],
            "breakeven": _breakeven_rows(result, curve),
        },
    )


def breakdown_chart(result: Result) -> ChartSpec:
    """Line items of every option at the scenario's volume, stacked."""
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
    spec = with_data(_breakdown_template(), {"line_items": rows})
    spec["height"] = max(60, 34 * len(result.options))
    volume = format_tokens(result.workload.total_tokens_per_month)
    spec["title"] = f"Cost breakdown at {volume} tokens/month"
    return spec


def with_data(template: ChartSpec, datasets: dict[str, list[dict[str, Any]]]) -> ChartSpec:
    """A copy of a chart template with its named datasets filled in.

    The templates are built once with altair over named data: altair deep-copies inline rows
    one by one (hundreds of ms for a few hundred rows), a page edit must answer in far less.
    """
    # The templates are plain JSON data: a JSON round trip copies them in C, several times
    # faster than copy.deepcopy.
    spec: ChartSpec = json.loads(json.dumps(template))
    spec["datasets"] = datasets
    return spec


# Only decades are labelled on the log axes (a log axis otherwise labels 2, 3, ... 9 too).
DECADE = "abs(log(datum.value) / LN10 - round(log(datum.value) / LN10)) < 1e-6"


@functools.cache
def _cost_curve_template() -> ChartSpec:
    import altair as alt

    x = alt.X(
        "tokens_per_month:Q",
        scale=alt.Scale(type="log", nice=False),
        axis=alt.Axis(title="tokens per month", labelExpr=f"{DECADE} ? {SI_TOKENS} : ''"),
    )
    y = alt.Y(
        "monthly_usd:Q",
        scale=alt.Scale(type="log"),
        axis=alt.Axis(title="USD per month", labelExpr=f"{DECADE} ? {SI_USD} : ''"),
    )
    # sort=None keeps the scenario's option order (data order) in the legend and colours.
    color = alt.Color("option:N", sort=None, legend=alt.Legend(orient="bottom"))
    lines = (
        alt.Chart(alt.NamedData(name="curves"))
        .mark_line(strokeWidth=2.5, interpolate="linear")
        .encode(
            x=x,
            y=y,
            color=color,
            # Dashed and faded where the option cannot serve the volume (beyond its capacity, or
            # a model that does not fit): it is drawn, never offered as the cheaper line.
            strokeDash=alt.StrokeDash(
                "serves:N",
                scale=alt.Scale(domain=[True, False], range=[[1, 0], [6, 4]]),
                legend=alt.Legend(title="can serve", orient="bottom", labelExpr=SERVES_LABEL),
            ),
            opacity=alt.condition("datum.serves", alt.value(1.0), alt.value(0.45)),
            detail="serves:N",
            tooltip=[
                alt.Tooltip("option:N"),
                alt.Tooltip("volume:N", title="tokens/month"),
                alt.Tooltip("cost:N", title="monthly cost"),
                alt.Tooltip("can_serve:N", title="can serve"),
            ],
        )
    )
    now = alt.NamedData(name="now")
    rule = alt.Chart(now).mark_rule(strokeDash=[4, 4], color="#555").encode(x=x)
    rule_label = (
        alt.Chart(now)
        .mark_text(align="left", dx=4, dy=-4, baseline="top", color="#333")
        .encode(x=x, y=alt.value(0), text="label:N")
    )
    crossings = alt.NamedData(name="breakeven")
    tooltip = [
        alt.Tooltip("pair:N", title="break-even"),
        alt.Tooltip("label:N", title="tokens/month"),
        alt.Tooltip("cheaper_above:N", title="cheaper above"),
        alt.Tooltip("cost:N", title="monthly cost"),
    ]
    points = (
        alt.Chart(crossings)
        .mark_point(shape="diamond", size=120, filled=True)
        .encode(
            x=x,
            y=y,
            # Grey: a crossing beyond what the fixed-cost option can serve (not a break-even).
            color=alt.condition("datum.serves", alt.value("black"), alt.value("#aaa")),
            tooltip=tooltip,
        )
    )
    labels = [
        alt.Chart(crossings)
        .transform_filter(f"datum.above == {'true' if above else 'false'}")
        .mark_text(align="center", dy=-12 if above else 14, fontSize=11, fontWeight="bold")
        .encode(x=x, y=y, text="label:N", tooltip=tooltip)
        for above in (True, False)
    ]
    chart = alt.layer(lines, rule, rule_label, points, *labels).properties(
        width=CHART_WIDTH_PX,
        height=340,
        title=alt.TitleParams(
            "Monthly cost by monthly volume",
            subtitle="diamonds: break-even volumes (hover for the pair)",
        ),
    )
    spec: ChartSpec = chart.to_dict(validate=False)
    return spec


@functools.cache
def _breakdown_template() -> ChartSpec:
    import altair as alt

    chart = (
        alt.Chart(alt.NamedData(name="line_items"))
        .mark_bar()
        .encode(
            y=alt.Y("option:N", sort=None, title=None),
            x=alt.X("sum(monthly_usd):Q", title="USD per month", axis=alt.Axis(format="$,.0f")),
            color=alt.Color("item:N", title="line item", legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("option:N"),
                alt.Tooltip("item:N"),
                alt.Tooltip("cost:N", title="USD/month"),
                alt.Tooltip("formula:N", title="how"),
            ],
        )
        .properties(width=CHART_WIDTH_PX)
    )
    return chart.to_dict(validate=False)  # type: ignore[no-any-return]


TORNADO_ROWS = 12  # the inputs that move the gap most; the table lists every one


def tornado_chart(sensitivity: Sensitivity) -> ChartSpec:
    """The cost gap between two options at each input's low and high end, widest swing on top.

    Each bar runs from the gap at the point values to the gap at one end of the input's range;
    the solid rule at zero is where the verdict flips.
    """
    rows = []
    for r in sensitivity.rows[:TORNADO_ROWS]:
        for end, value, gap in (
            ("low", r.low, r.gap_at_low_usd),
            ("high", r.high, r.gap_at_high_usd),
        ):
            rows.append(
                {
                    "input": r.path,
                    "end": f"input at its {end}",
                    "value": f"{value:.4g}",
                    "from_usd": sensitivity.gap_usd,
                    "gap_usd": gap,
                    "gap": format_usd(gap),
                }
            )
    spec = with_data(
        _tornado_template(),
        {"tornado": rows, "now": [{"gap_usd": sensitivity.gap_usd}]},
    )
    spec["height"] = max(60, 26 * min(len(sensitivity.rows), TORNADO_ROWS))
    spec["title"] = {
        "text": f"What moves {sensitivity.option} minus {sensitivity.versus} (USD/month)",
        "subtitle": f"below zero: {sensitivity.option} cheaper; dashed: the gap now "
        f"({format_usd(sensitivity.gap_usd)})",
    }
    return spec


def bands_chart(simulation: Simulation) -> ChartSpec:
    """P10-P90 monthly cost per option (bar), P50 (tick) and the point estimate (diamond)."""
    rows = [
        {
            "option": o.name,
            "p10_usd": o.monthly_usd.p10,
            "p50_usd": o.monthly_usd.p50,
            "p90_usd": o.monthly_usd.p90,
            "point_usd": o.deterministic_usd,
            "band": f"{format_usd(o.monthly_usd.p10)} - {format_usd(o.monthly_usd.p90)}",
            "p50": format_usd(o.monthly_usd.p50),
            "p_cheapest": f"{o.probability_cheapest:.1%}",
        }
        for o in simulation.options
    ]
    spec = with_data(_bands_template(), {"bands": rows})
    spec["height"] = max(60, 34 * len(rows))
    spec["title"] = {
        "text": f"Monthly cost over {simulation.samples:,} simulated months",
        "subtitle": "bar: P10 to P90; tick: P50; diamond: the point estimate; "
        "right: probability of being cheapest",
    }
    return spec


@functools.cache
def _tornado_template() -> ChartSpec:
    import altair as alt

    x = alt.X("from_usd:Q", title="gap, USD per month", axis=alt.Axis(format="$,.0f"))
    bars = (
        alt.Chart(alt.NamedData(name="tornado"))
        .mark_bar(opacity=0.85)
        .encode(
            # Input paths are long (options[name].self_hosted.ops_monthly): room for them.
            y=alt.Y("input:N", sort=None, title=None, axis=alt.Axis(labelLimit=360)),
            x=x,
            x2="gap_usd:Q",
            color=alt.Color(
                "end:N",
                title=None,
                legend=alt.Legend(orient="bottom"),
                sort=["input at its low", "input at its high"],
            ),
            tooltip=[
                alt.Tooltip("input:N"),
                alt.Tooltip("end:N", title="at"),
                alt.Tooltip("value:N", title="input value"),
                alt.Tooltip("gap:N", title="gap"),
            ],
        )
    )
    flip = alt.Chart(alt.NamedData(name="now")).mark_rule(color="black").encode(x=alt.datum(0))
    now = (
        alt.Chart(alt.NamedData(name="now"))
        .mark_rule(strokeDash=[4, 4], color="#555")
        .encode(x="gap_usd:Q")
    )
    chart = alt.layer(bars, flip, now).properties(width=CHART_WIDTH_PX)
    return chart.to_dict(validate=False)


@functools.cache
def _bands_template() -> ChartSpec:
    import altair as alt

    y = alt.Y("option:N", sort=None, title=None)
    tooltip = [
        alt.Tooltip("option:N"),
        alt.Tooltip("band:N", title="P10 - P90"),
        alt.Tooltip("p50:N", title="P50"),
        alt.Tooltip("p_cheapest:N", title="P(cheapest)"),
    ]
    base = alt.Chart(alt.NamedData(name="bands"))
    x = alt.X("p10_usd:Q", title="USD per month", axis=alt.Axis(format="$,.0f"))
    band = base.mark_bar(height=14, opacity=0.45).encode(
        y=y,
        x=x,
        x2="p90_usd:Q",
        color=alt.Color("option:N", sort=None, legend=None),
        tooltip=tooltip,
    )
    median = base.mark_tick(thickness=3, size=20, color="black").encode(
        y=y, x="p50_usd:Q", tooltip=tooltip
    )
    point = base.mark_point(shape="diamond", filled=True, size=80, color="#c0392b").encode(
        y=y, x="point_usd:Q", tooltip=tooltip
    )
    chance = base.mark_text(align="left", dx=6, fontSize=11).encode(
        y=y, x="p90_usd:Q", text="p_cheapest:N"
    )
    chart = alt.layer(band, median, point, chance).properties(width=CHART_WIDTH_PX)
    return chart.to_dict(validate=False)


TRACE_TIERS = ["always-on", "spot", "on-demand"]


def trace_chart(sizing: TraceSizing) -> ChartSpec:
    """GPUs needed each minute of the trace (line) against the GPUs the cheapest mix holds,
    stacked by tier (areas); minutes beyond a day are bucketed, each keeping its peak."""
    rows = [
        {"hour": p.minute / 60, "series": p.series, "gpus": p.gpus}
        for p in sizing.chart
        if p.series != "needed"
    ]
    needed = [{"hour": p.minute / 60, "gpus": p.gpus} for p in sizing.chart if p.series == "needed"]
    spec = with_data(_trace_template(), {"provisioned": rows, "needed": needed})
    spec["title"] = (
        f"{sizing.option}: GPUs needed vs provisioned ({sizing.minutes:,} minutes of traffic)"
    )
    return spec


@functools.cache
def _trace_template() -> ChartSpec:
    import altair as alt

    x = alt.X("hour:Q", title="hours from the start of the trace")
    areas = (
        alt.Chart(alt.NamedData(name="provisioned"))
        .mark_area(interpolate="step-after", opacity=0.6)
        .encode(
            x=x,
            y=alt.Y("gpus:Q", stack="zero", title="GPUs"),
            color=alt.Color(
                "series:N",
                title="provisioned",
                sort=TRACE_TIERS,
                scale=alt.Scale(domain=TRACE_TIERS),
                legend=alt.Legend(orient="bottom"),
            ),
            order=alt.Order("series_order:Q"),
            tooltip=[alt.Tooltip("series:N"), alt.Tooltip("hour:Q", format=".2f"), "gpus:Q"],
        )
        .transform_calculate(series_order=f"indexof({TRACE_TIERS!r}, datum.series)")
    )
    line = (
        alt.Chart(alt.NamedData(name="needed"))
        .mark_line(interpolate="step-after", color="black", strokeWidth=1.5)
        .encode(x=x, y="gpus:Q", tooltip=[alt.Tooltip("hour:Q", format=".2f"), "gpus:Q"])
    )
    chart = alt.layer(areas, line).properties(width=CHART_WIDTH_PX, height=220)
    spec: ChartSpec = chart.to_dict(validate=False)
    return spec


def build_charts(
    result: Result,
    curve: list[SweepRow],
    simulation: Simulation | None = None,
    sensitivity: Sensitivity | None = None,
) -> dict[str, ChartSpec]:
    """Every chart of a report, by name; the decision charts when there is data for them."""
    charts = {"cost_curve": cost_curve_chart(result, curve), "breakdown": breakdown_chart(result)}
    if simulation is not None:
        charts["bands"] = bands_chart(simulation)
    if sensitivity is not None and sensitivity.rows:
        charts["tornado"] = tornado_chart(sensitivity)
    from llm_tco.report.ways_view import ways_charts

    charts.update(ways_charts(result))
    return charts


def to_png(spec: ChartSpec, scale: float = 2.0) -> bytes:
    """Render a spec to PNG offline (vl-convert bundles Vega; no browser)."""
    import vl_convert

    return bytes(vl_convert.vegalite_to_png(spec, scale=scale))


def to_svg(spec: ChartSpec) -> str:
    import vl_convert

    return str(vl_convert.vegalite_to_svg(spec))
