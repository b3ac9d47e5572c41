"""The decision part of a report as display strings: recommendation, simulation bands, tornado.

Like :mod:`llm_tco.report.view`, this only selects and formats fields of result models the core
produced (:class:`~llm_tco.decide_result.Recommendation`, :class:`~llm_tco.decide_result.
Simulation`, :class:`~llm_tco.decide_result.Sensitivity`); it computes nothing.
"""

from __future__ import annotations

from pydantic import BaseModel

from llm_tco.core.units import format_tokens, format_usd
from llm_tco.decide_result import Recommendation, Sensitivity, Simulation
from llm_tco.report.table import Table

# How each reason weighs on the choice, as the page and the reports label it.
WEIGHT_LABELS = {
    "decides": "decides",
    "supports": "for",
    "against": "against",
    "caveat": "caveat",
}


class ReasonView(BaseModel):
    weight: str  # supports | against | caveat | decides (the core's word, for styling)
    label: str  # what the page and reports print before the reason
    text: str
    evidence: str  # the number or answer that triggered the reason


class RecommendationView(BaseModel):
    choose: str
    kind: str
    summary: str
    reasons: list[ReasonView]
    notes: list[str]


def _tokens(value: float | None) -> str:
    return "never" if value is None else format_tokens(value)


def _number(value: float) -> str:
    """An input value: token-sized counts with a suffix, prices and shares as they are."""
    return format_tokens(value) if abs(value) >= 1e4 else f"{value:.4g}"


def recommendation_view(rec: Recommendation) -> RecommendationView:
    notes = []
    if rec.six_questions_yes is not None:
        notes.append(
            'Six questions (4 or more yes: evaluate self-hosting seriously, in "Self-Hosted LLM vs '
            f'API Cost: Break-Even Analysis (2026)"): '
            f"{rec.six_questions_yes} yes of {rec.six_questions_answered} answered"
        )
    if rec.five_cases:
        notes.append("Cases where self-hosting wins that apply: " + ", ".join(rec.five_cases))
    return RecommendationView(
        choose=rec.choose,
        kind=rec.kind,
        summary=rec.summary,
        reasons=[
            ReasonView(
                weight=r.weight,
                label=WEIGHT_LABELS.get(r.weight, r.weight),
                text=r.text,
                evidence=r.evidence,
            )
            for r in rec.reasons
        ],
        notes=notes,
    )


def simulation_tables(sim: Simulation) -> dict[str, Table]:
    """P10/P50/P90 monthly cost and P(cheapest) per option; break-even bands when any."""
    ranges = "; ".join(f"{i.path} {i.distribution}" for i in sim.inputs)
    seed = "no seed" if sim.seed is None else f"seed {sim.seed}"
    tables = {
        "simulation": Table(
            title=f"Monthly cost over {sim.samples:,} simulated months ({seed})",
            columns=["option", "point", "P10", "P50", "P90", "P(cheapest)"],
            align=["left", "right", "right", "right", "right", "right"],
            rows=[
                [
                    o.name,
                    format_usd(o.deterministic_usd),
                    format_usd(o.monthly_usd.p10),
                    format_usd(o.monthly_usd.p50),
                    format_usd(o.monthly_usd.p90),
                    f"{o.probability_cheapest:.1%}",
                ]
                for o in sim.options
            ],
            note=f"ranges: {ranges}" if ranges else None,
        )
    }
    if sim.breakeven:
        tables["simulation_breakeven"] = Table(
            title="Break-even tokens/month over the simulated months",
            columns=["option", "versus", "point", "P10", "P50", "P90", "never"],
            align=["left", "left", "right", "right", "right", "right", "right"],
            rows=[
                [
                    b.option,
                    b.versus,
                    _tokens(b.deterministic_tokens_per_month),
                    *(
                        ["-"] * 3
                        if b.tokens_per_month is None
                        else [
                            format_tokens(v)
                            for v in (
                                b.tokens_per_month.p10,
                                b.tokens_per_month.p50,
                                b.tokens_per_month.p90,
                            )
                        ]
                    ),
                    f"{b.share_never:.1%}",
                ]
                for b in sim.breakeven
            ],
            note="held at their point value: " + ", ".join(sim.held_at_point)
            if sim.held_at_point
            else None,
        )
    return tables


def tornado_table(sens: Sensitivity, spread: float) -> Table:
    rows = []
    for r in sens.rows:
        flip = "-"
        if r.flips_at is not None:
            flip = _number(r.flips_at) + ("" if r.flip_within_range else " (outside range)")
        rows.append(
            [
                r.path,
                _number(r.low),
                _number(r.high),
                format_usd(r.gap_at_low_usd),
                format_usd(r.gap_at_high_usd),
                format_usd(r.swing_usd),
                flip,
            ]
        )
    return Table(
        title=f"What moves {sens.option} minus {sens.versus} "
        f"(now {format_usd(sens.gap_usd)}/month)",
        columns=["input", "low", "high", "gap at low", "gap at high", "swing", "verdict flips at"],
        align=["left", "right", "right", "right", "right", "right", "right"],
        rows=rows,
        note=(
            f"negative gap: {sens.option} cheaper. Stated ranges are used as given; other numbers "
            f"are moved +/-{spread:.0%}."
        ),
    )


def tax_table(rec: Recommendation) -> Table | None:
    if not rec.capability_tax:
        return None
    return Table(
        title="Capability tax: break-even with and without retries and acceptance",
        columns=["option", "versus", "no tax", "with retries", "per accepted output", "shift"],
        align=["left", "left", "right", "right", "right", "right"],
        rows=[
            [
                t.option,
                t.versus,
                _tokens(t.without_tax_tokens_per_month),
                _tokens(t.with_tax_tokens_per_month),
                _tokens(t.accepted_with_tax_tokens_per_month),
                "-" if t.shift is None else f"x{t.shift:.2f}",
            ]
            for t in rec.capability_tax
        ],
        note="rule of thumb in \"Open-Source LLM ROI: Why 'Free' Costs 60% More Than Claude\": "
        "a x1.3-1.4 shift",
    )


def idle_table(rec: Recommendation) -> Table | None:
    rows = [
        [
            report.option,
            c.choice,
            format_usd(c.monthly_usd),
            format_usd(c.saving_vs_always_on_usd),
            c.how,
        ]
        for report in rec.idle
        for c in report.choices
    ]
    if not rows:
        return None
    return Table(
        title="Idle-cost choices (GPU line only)",
        columns=["option", "choice", "USD/month", "saves", "how"],
        align=["left", "left", "right", "right", "left"],
        rows=rows,
    )


def decision_tables(
    rec: Recommendation | None, sens: Sensitivity | None, spread: float
) -> dict[str, Table]:
    """Every decision table that has something to show, by name."""
    tables: dict[str, Table] = {}
    if rec is not None and rec.simulation is not None:
        tables.update(simulation_tables(rec.simulation))
    if sens is not None and sens.rows:
        tables["tornado"] = tornado_table(sens, spread)
    if rec is not None:
        for name, table in (("capability_tax", tax_table(rec)), ("idle", idle_table(rec))):
            if table is not None:
                tables[name] = table
    return tables
