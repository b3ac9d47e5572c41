"""What a report shows, as display strings: one view of a Result for the page and every report.

The page (JSON from ``POST /api/view``), the HTML report and the Markdown report all render
this same :class:`Report`, so they show the same figures formatted the same way. Nothing here
computes a cost; it selects and formats fields of the Result the core produced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from llm_tco.catalog.loader import Catalog
from llm_tco.core.units import format_tokens, format_usd
from llm_tco.decide_result import Recommendation, Sensitivity
from llm_tco.report.decision_view import RecommendationView, decision_tables, recommendation_view
from llm_tco.report.table import Align, Table
from llm_tco.report.ways_view import ways_tables
from llm_tco.result import Breakeven, OptionResult, Result, SweepRow
from llm_tco.scenario import Scenario

if TYPE_CHECKING:
    from llm_tco.trace_sizing import TraceSizing

__all__ = ["Align", "Report", "Table", "View", "build_report", "build_view"]


# The page's simulation size, seed and tornado spread: analyse()'s defaults
# (llm_tco.analyse), so a link and its downloaded report show the same figures.
VIEW_SAMPLES = 2_000
VIEW_SEED = 0
TORNADO_SPREAD = 0.25


class View(BaseModel):
    title: str
    workload: str
    headline: str
    tables: dict[str, Table]
    warnings: list[str]
    recommendation: RecommendationView | None = None
    infeasible: list[str] = []  # "NAME cannot serve: REASON", one per option that cannot


class Report(BaseModel):
    """Everything a report or the page renders: the result, the recommendation with its
    simulation, the tornado, their view as display strings, and the chart specs."""

    result: Result
    view: View
    charts: dict[str, dict[str, Any]]
    recommendation: Recommendation | None = None
    sensitivity: Sensitivity | None = None


def _money(value: float | None) -> str:
    return "-" if value is None else format_usd(value)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _tokens(value: float | None) -> str:
    return "-" if value is None else format_tokens(value)


def _options_table(result: Result) -> Table:
    rows = []
    for o in result.options:
        d = o.deployment
        rows.append(
            [
                o.name,
                o.label,
                format_usd(o.monthly_cost),
                _money(o.cost_per_mtok),
                "-" if o.gpus is None else str(o.gpus),
                f"{d.gpus_per_replica} x {d.replicas}" if d else "-",
                _pct(d.utilisation_at_peak if d else None),
                _pct(d.utilisation_at_mean if d else None),
                _tokens(d.capacity_tokens_per_month if d else None),
                _standing(o, result.cheapest),
            ]
        )
    return _drop_empty_columns(
        Table(
            title="Monthly cost per option",
            columns=[
                "option",
                "kind",
                "monthly cost",
                "$/MTok",
                "GPUs",
                "GPUs/replica x replicas",
                "util. at peak",
                "util. mean",
                "capacity tokens/month",
                "",
            ],
            align=[
                "left",
                "left",
                "right",
                "right",
                "right",
                "right",
                "right",
                "right",
                "right",
                "left",
            ],
            rows=rows,
        )
    )


def _standing(option: OptionResult, cheapest: str | None) -> str:
    if not option.feasible:
        # The reason, and what auto-sized GPUs would cost, are listed under the table
        # (View.infeasible).
        return "cannot serve"
    return "cheapest" if option.name == cheapest else ""


def _drop_empty_columns(table: Table) -> Table:
    """Leave out columns no option fills (e.g. utilisation when no capacity is known)."""
    keep = [
        i
        for i in range(len(table.columns))
        if i < 3 or any(row[i] not in ("-", "") for row in table.rows)
    ]
    return table.model_copy(
        update={
            "columns": [table.columns[i] for i in keep],
            "align": [table.align[i] for i in keep],
            "rows": [[row[i] for i in keep] for row in table.rows],
        }
    )


def _line_items_table(result: Result) -> Table:
    rows = [
        [o.name, line.name, format_usd(line.monthly_usd), line.formula, line.source or "-"]
        for o in result.options
        for line in o.line_items
    ]
    return Table(
        title="Line items (USD per month)",
        columns=["option", "item", "USD/month", "how", "source"],
        align=["left", "left", "right", "left", "left"],
        rows=rows,
    )


def _breakeven_table(result: Result) -> Table:
    rows = [
        [
            b.option,
            b.versus,
            _breakeven_volume(b),
            _tokens(b.requests_per_month),
            b.note,
        ]
        for b in result.breakeven
    ]
    return Table(
        title="Break-even volumes",
        columns=["option", "versus", "tokens/month", "requests/month", "note"],
        align=["left", "left", "right", "right", "left"],
        rows=rows,
        note=None if rows else "no pair of a fixed-cost and a per-token option to compare",
    )


def _breakeven_volume(b: Breakeven) -> str:
    if not b.feasible and b.crossing_tokens_per_month is not None:
        return f"cannot serve ({format_tokens(b.crossing_tokens_per_month)} crossing)"
    return "never" if b.tokens_per_month is None else format_tokens(b.tokens_per_month)


def _sweep_table(result: Result) -> Table:
    names = [o.name for o in result.options]
    rows = [
        [
            format_tokens(row.tokens_per_month),
            *(_sweep_cell(row, name) for name in names),
            row.verdict,
        ]
        for row in result.sweep
    ]
    beyond = any(not all(row.feasible.values()) for row in result.sweep)
    return Table(
        title="Sweep over monthly volume (same split and shape)",
        columns=["tokens/month", *names, "verdict"],
        align=["right", *(["right"] * len(names)), "left"],
        rows=rows,
        note="! cannot serve this volume (beyond its capacity, or the model does not fit)"
        if beyond
        else None,
    )


def _sweep_cell(row: SweepRow, name: str) -> str:
    return format_usd(row.costs[name]) + ("" if row.feasible.get(name, True) else " !")


def _assumptions_table(result: Result) -> Table:
    rows = [
        [a.name, a.value, a.source, "-" if a.as_of is None else a.as_of.isoformat()]
        for a in result.assumptions
    ]
    rows += [
        [
            f"{o.name}: price",
            _price_text(o),
            o.price.source,
            "-" if o.price.as_of is None else o.price.as_of.isoformat(),
        ]
        for o in result.options
        if o.price is not None
    ]
    return Table(
        title="Assumptions and sources",
        columns=["assumption", "value", "source", "as of"],
        align=["left", "left", "left", "left"],
        rows=rows,
    )


def _price_text(option: OptionResult) -> str:
    price = option.price
    assert price is not None
    return (
        f"${price.input_per_mtok:g} input / ${price.output_per_mtok:g} output / "
        f"${price.cached_input_per_mtok:g} cached input per MTok"
    )


def build_view(
    result: Result,
    recommendation: Recommendation | None = None,
    sensitivity: Sensitivity | None = None,
) -> View:
    w = result.workload
    workload = (
        f"{format_tokens(w.input_tokens_per_month)} input + "
        f"{format_tokens(w.output_tokens_per_month)} output tokens/month ({w.source}); "
        f"peak-to-mean {w.peak_to_mean:g}, cached input {w.cached_input_share:.0%}, "
        f"batch {w.batch_share:.0%}"
    )
    return View(
        title=result.name,
        workload=workload,
        headline=_headline(result),
        tables={
            "options": _options_table(result),
            "line_items": _line_items_table(result),
            "breakeven": _breakeven_table(result),
            "sweep": _sweep_table(result),
            "assumptions": _assumptions_table(result),
            **decision_tables(recommendation, sensitivity, TORNADO_SPREAD),
            **ways_tables(result),
        },
        warnings=_warnings(result),
        recommendation=None if recommendation is None else recommendation_view(recommendation),
        infeasible=[
            f"{o.name} cannot serve: {o.infeasible_reason or 'see the warnings'}"
            + (f"; {o.to_serve.note}" if o.to_serve is not None else "")
            for o in result.options
            if not o.feasible
        ],
    )


def _warnings(result: Result) -> list[str]:
    """Every warning but the ones saying why an option cannot serve: ``View.infeasible`` shows
    those right under the options table."""
    reasons = {(o.name, o.infeasible_reason) for o in result.options if not o.feasible}
    return [
        (f"{w.option}: " if w.option else "") + w.message
        for w in result.warnings
        if (w.option, w.message) not in reasons
    ]


def _headline(result: Result) -> str:
    volume = format_tokens(result.workload.total_tokens_per_month)
    if result.cheapest is None:  # no option can serve: none is named cheapest
        return (
            f"No option can serve {volume} tokens/month as stated: see what each would need below"
        )
    cheapest = result.option(result.cheapest)
    cost = format_usd(cheapest.monthly_cost)
    return f"Cheapest at {volume} tokens/month: {cheapest.name} at {cost}/month"


def build_report(
    scenario: Scenario,
    catalog: Catalog | None = None,
    samples: int = VIEW_SAMPLES,
    seed: int | None = VIEW_SEED,
    suggest: bool = True,
) -> Report:
    """Everything a report of ``scenario`` shows, from one :func:`llm_tco.analyse.analyse`:
    the result, the recommendation (with a ``samples``-month simulation when the scenario has
    ranges), the tornado, the view, the curves and the charts."""
    from llm_tco.analyse import analyse
    from llm_tco.report.charts import build_charts

    analysis = analyse(scenario, catalog, samples, seed, TORNADO_SPREAD, suggest=suggest)
    result, recommendation, sensitivity = (
        analysis.result,
        analysis.recommendation,
        analysis.sensitivity,
    )
    view = build_view(result, recommendation, sensitivity)
    charts = build_charts(result, analysis.curve, recommendation.simulation, sensitivity)
    sizing = _trace_sizing(scenario, catalog)
    if sizing is not None:
        from llm_tco.report.charts import trace_chart

        charts["trace"] = trace_chart(sizing)
        view.tables["trace_mix"] = trace_mix_table(sizing)
    return Report(
        result=result,
        view=view,
        charts=charts,
        recommendation=recommendation,
        sensitivity=sensitivity,
    )


def _trace_sizing(scenario: Scenario, catalog: Catalog | None) -> TraceSizing | None:
    """The first self-hosted option sized minute by minute over the scenario's hourly (or
    weekly) profile (``llm-tco size-trace``), when the scenario has one and the option a
    capacity."""
    w = scenario.workload
    if w.hourly_profile is None and w.weekly_profile is None:
        return None
    if not any(o.self_hosted is not None for o in scenario.options):
        return None
    from llm_tco.errors import LlmTcoError
    from llm_tco.trace_sizing import size_trace

    try:
        return size_trace(scenario, catalog=catalog)
    except LlmTcoError:
        return None


def trace_mix_table(sizing: TraceSizing) -> Table:
    """The cheapest mix of always-on, spot, on-demand and API overflow for the traffic."""
    g = sizing.gpus_needed
    return Table(
        title=f"Sizing from the traffic: {sizing.option}",
        columns=["tier", "replicas", "GPUs", "USD/month", "how"],
        align=["left", "right", "right", "right", "left"],
        rows=[
            [
                t.tier,
                "-" if t.tier == "api-overflow" else str(t.replicas),
                "-" if t.tier == "api-overflow" else str(t.gpus),
                _money(t.monthly_usd),
                t.how,
            ]
            for t in sizing.mix
        ],
        note=(
            f"GPUs needed minute by minute ({sizing.source}): min {g.minimum}, mean "
            f"{g.mean:.1f}, max {g.maximum}. Cheapest mix {_money(sizing.monthly_usd)}/month "
            f"against {_money(sizing.always_on_at_peak_monthly_usd)} always-on for the peak "
            "(GPU and overflow costs; ops costs are the same for every mix)."
        ),
    )
