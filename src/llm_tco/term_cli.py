"""`llm-tco term`: the decision over the whole term, month by month."""

from __future__ import annotations

from typing import Annotated

import typer

from llm_tco.cli import FileArg, FormatOpt, OutputFormat, WideOpt, cli_errors, console
from llm_tco.core.units import format_usd
from llm_tco.report.tables import Shown, emit_tables
from llm_tco.report.terminal import Col
from llm_tco.result import Warning
from llm_tco.term_eval import TermResult


def register(app: typer.Typer) -> None:
    app.command("term")(term)


def _pct(value: float) -> str:
    return f"{value:+.0%}"


def _months_shown(months: int) -> list[int]:
    """Month 1, then every 3 (to 12) or 6 (longer terms) months, and the last."""
    step = 1 if months <= 6 else 3 if months <= 12 else 6
    shown = sorted({1, months, *range(step, months + 1, step)})
    return shown


def _ahead(months: int | None) -> str:
    return "never" if months is None else f"month {months}"


def lines(result: TermResult) -> list[str]:
    r = result.rates
    said = [
        f"{result.name}: {result.term_months} months. API prices "
        f"{_pct(r['api_price_change_per_year'])}/yr, GPU rental "
        f"{_pct(r['gpu_price_change_per_year'])}/yr, discount rate "
        f"{r['discount_rate_per_year']:.0%}/yr, capital charge "
        f"{r['capital_charge_per_year']:.0%}/yr, resale {r['resale_value_share']:.0%} of the "
        "purchase at the end.",
        f"Cheapest today: {result.cheapest_today or 'none can serve'}; over the term: "
        f"{result.cheapest_full or 'none'} (full TCO), {result.cheapest_marginal or 'none'} "
        "(marginal: owned GPUs sunk).",
    ]
    said += [f"Default {a.name}: {a.value} ({a.source})" for a in result.assumptions]
    return said


def tables(result: TermResult) -> list[Shown]:
    sim = {b.name: b for b in (result.simulation.options if result.simulation else [])}
    today = result.cheapest_today
    rows = []
    for o in sorted(result.options, key=lambda o: o.total_full_usd):
        ahead = "cheapest now" if o.name == today else "-"
        if today is not None and o.name != today:
            ahead = _ahead(o.pulls_ahead_month.get(today))
        row = [
            o.name,
            format_usd(o.monthly_cost_today),
            format_usd(o.total_full_usd),
            format_usd(o.total_marginal_usd),
            ahead if o.feasible else "cannot serve",
        ]
        if o.name in sim:
            row.append(f"{sim[o.name].probability_cheapest_full:.0%}")
        rows.append(row)
    cols = [
        Col("option", "id"),
        Col("month 1", "num", drop=3),
        Col("full TCO", "num"),
        Col("marginal", "num", drop=2),
        Col(f"ahead of\n{today or 'cheapest'}", "id", drop=1),
    ]
    if sim:
        cols.append(Col("P(cheapest)\nover term", "num"))
    summary = Shown(f"Cost over {result.term_months} months (USD)", cols, rows)
    names = [o.name for o in result.options]
    by_month = [
        [str(m)] + [format_usd(o.cumulative_usd[m - 1]) for o in result.options]
        for m in _months_shown(result.term_months)
    ]
    running = Shown(
        "Running total, full TCO (USD)",
        [Col("month", "num")] + [Col(n, "num", drop=i) for i, n in enumerate(names)],
        by_month,
    )
    return [summary, running]


@cli_errors
def term(
    file: FileArg,
    months: Annotated[
        int | None,
        typer.Option(min=1, max=120, help="months the decision is for (default: term_months)"),
    ] = None,
    samples: Annotated[
        int,
        typer.Option(
            min=0, max=100_000, help="Monte Carlo samples: P(cheapest over the term) (0: none)"
        ),
    ] = 0,
    seed: Annotated[int | None, typer.Option(help="random seed: same seed, same output")] = None,
    output: FormatOpt = OutputFormat.table,
    wide: WideOpt = False,
) -> None:
    """Cost of every option over the whole term, month by month, and when each pulls ahead.

    A decision to self-host holds for 12-36 months while prices move. Set `term_months: 36`
    in the scenario (or `--months 36`) and, under `term:`, how prices move a year on:
    `api_price_change_per_year`, `gpu_price_change_per_year` (e.g. -0.2 = 20% lower),
    `hardware_depreciation_per_year` or `resale_value_share` for bought GPUs,
    `discount_rate_per_year` and `capital_charge_per_year`. Left out, the price changes and the
    depreciation take sourced defaults (listed in the output) and, with `--samples`, their
    ranges. Any of them may be a range (`{low: -0.5, high: 0}`).

    **Full TCO** pays for bought GPUs up front and credits their resale value at the end;
    **marginal** treats GPUs you already own as sunk. "Ahead of" names the first month whose
    running total is at or below today's cheapest option's (its payback). With constant prices
    and no discounting, 36 months cost exactly 36 times one month.

    Example: `llm-tco term examples/seed1-high-volume-haiku-vs-llama.yaml --months 36
    --samples 2000 --seed 1`
    """
    from llm_tco.catalog import load_catalog
    from llm_tco.scenario import load_scenario
    from llm_tco.term_eval import evaluate_term

    scenario = load_scenario(file)
    result = evaluate_term(scenario, load_catalog(), months, samples, seed)
    emit_tables(result, lines(result), tables(result), output.value, console(), wide)
    if output is OutputFormat.table:
        print_warnings(result.warnings)


def print_warnings(warnings: list[Warning]) -> None:
    """Warnings to stderr, as `evaluate` prints them."""
    from rich.text import Text

    for warning in warnings:
        prefix = f"[{warning.option}] " if warning.option else ""
        console(err=True).print(Text(f"warning: {prefix}{warning.message}", style="yellow"))
