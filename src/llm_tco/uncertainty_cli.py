"""Commands for deciding under uncertainty: simulate, sensitivity, recommend.

``register(app)`` adds them to the main ``llm-tco`` app; heavy imports stay inside commands.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

FileArg = Annotated[Path, typer.Argument(help="scenario file (YAML or JSON)")]
# The scenario schema's bound, written out: importing it would slow every command's start.
MAX_SAMPLES = 100_000
SamplesOpt = Annotated[
    int,
    typer.Option(
        help=f"simulated months, at most {MAX_SAMPLES:,} (0: none)", min=0, max=MAX_SAMPLES
    ),
]
SeedOpt = Annotated[int | None, typer.Option(help="random seed: same seed, same output")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON instead of tables")]


def _money(value: float) -> str:
    from llm_tco.core.units import format_usd

    return format_usd(value)


def _dump(model: Any) -> None:
    sys.stdout.write(model.model_dump_json(indent=2) + "\n")


def render_simulation(sim: Any, console: Console) -> None:
    from llm_tco.core.units import format_tokens
    from llm_tco.report.terminal import Col, print_table

    seed = "random seed" if sim.seed is None else f"seed {sim.seed}"
    rows = [
        [
            o.name,
            _money(o.deterministic_usd),
            _money(o.monthly_usd.p10),
            _money(o.monthly_usd.p50),
            _money(o.monthly_usd.p90),
            f"{o.probability_cheapest:.1%}",
        ]
        for o in sim.options
    ]
    cols = [Col("option", "id"), *(Col(c, "num") for c in ("point", "P10", "P50", "P90"))]
    cols.append(Col("P(cheapest)", "num"))
    print_table(console, f"monthly cost over {sim.samples:,} samples ({seed})", cols, rows)
    if sim.breakeven:
        rows = []
        for b in sim.breakeven:
            band = b.tokens_per_month
            cells = (
                ["-"] * 3
                if band is None
                else [format_tokens(v) for v in (band.p10, band.p50, band.p90)]
            )
            point = b.deterministic_tokens_per_month
            rows.append(
                [
                    b.option,
                    b.versus,
                    "never" if point is None else format_tokens(point),
                    *cells,
                    f"{b.share_never:.1%}",
                ]
            )
        cols = [Col("option", "id"), Col("versus", "id")]
        cols += [Col(c, "num") for c in ("point", "P10", "P50", "P90", "never")]
        print_table(console, "break-even tokens/month", cols, rows)
    if sim.inputs:
        console.print(
            "ranges: " + "; ".join(f"{i.path} {i.distribution}" for i in sim.inputs),
            markup=False,
            highlight=False,
        )
    if sim.held_at_point:
        console.print(
            "held at their point value (no monthly-cost effect modelled): "
            + ", ".join(sim.held_at_point),
            markup=False,
            highlight=False,
        )


def render_sensitivity(sens: Any, console: Console) -> None:
    table = Table(
        title=f"what moves {sens.option} minus {sens.versus} "
        f"(now {_money(sens.gap_usd)}/month; negative: {sens.option} cheaper)",
        title_justify="left",
    )
    for column in ("input", "low", "high", "gap at low", "gap at high", "swing", "flips at"):
        table.add_column(column, justify="left" if column == "input" else "right")
    for r in sens.rows:
        flip = (
            "-"
            if r.flips_at is None
            else f"{r.flips_at:.4g}" + ("" if r.flip_within_range else " (outside range)")
        )
        table.add_row(
            Text(r.path),
            f"{r.low:.4g}",
            f"{r.high:.4g}",
            _money(r.gap_at_low_usd),
            _money(r.gap_at_high_usd),
            _money(r.swing_usd),
            flip,
        )
    console.print(table)


def render_recommendation(rec: Any, console: Console) -> None:
    console.print(Text(rec.summary, style="bold"))
    marks = {"decides": "=>", "supports": "+", "against": "-", "caveat": "!"}
    for r in rec.reasons:
        console.print(Text(f" {marks.get(r.weight, '*')} {r.text}  [{r.evidence}]"))
    if rec.six_questions_yes is not None:
        console.print(
            Text(
                f"six questions: {rec.six_questions_yes} yes of "
                f"{rec.six_questions_answered} answered"
            )
        )
    if rec.five_cases:
        console.print(
            Text("cases where self-hosting wins that apply: " + ", ".join(rec.five_cases))
        )
    for tax in rec.capability_tax:
        console.print(Text(f"capability tax: {tax.explanation}"))
    for report in rec.idle:
        table = Table(
            title=f"idle cost choices for {report.option} (GPU line only)", title_justify="left"
        )
        for column in ("choice", "USD/month", "saves", "how"):
            table.add_column(
                column, justify="right" if column in ("USD/month", "saves") else "left"
            )
        for c in report.choices:
            table.add_row(
                c.choice, _money(c.monthly_usd), _money(c.saving_vs_always_on_usd), Text(c.how)
            )
        console.print(table)
    if rec.simulation is not None:
        render_simulation(rec.simulation, console)


def register(app: typer.Typer) -> None:
    from llm_tco.cli import cli_errors, stdout

    @app.command()
    @cli_errors
    def simulate(
        file: FileArg, samples: SamplesOpt = 10_000, seed: SeedOpt = None, as_json: JsonOpt = False
    ) -> None:
        """Monte Carlo over the scenario's ranges: P10/P50/P90 monthly cost per option, the
        probability each is cheapest, and the break-even volume as a distribution."""
        from llm_tco.scenario import load_scenario
        from llm_tco.simulate import simulate as run

        result = run(load_scenario(file), samples, seed)
        _dump(result) if as_json else render_simulation(result, stdout)

    @app.command()
    @cli_errors
    def sensitivity(
        file: FileArg,
        option: Annotated[str | None, typer.Option(help="default: the cheapest option")] = None,
        versus: Annotated[str | None, typer.Option(help="default: the runner-up")] = None,
        spread: Annotated[
            float,
            typer.Option(help="+/- share applied to numbers without a range (0: ranges only)"),
        ] = 0.25,
        as_json: JsonOpt = False,
    ) -> None:
        """Tornado: which inputs move the cost gap between two options most across their
        ranges, and the input value at which the verdict flips."""
        from llm_tco.scenario import load_scenario
        from llm_tco.sensitivity import tornado

        result = tornado(load_scenario(file), option, versus, spread)
        _dump(result) if as_json else render_sensitivity(result, stdout)

    @app.command()
    @cli_errors
    def recommend(
        file: FileArg, samples: SamplesOpt = 10_000, seed: SeedOpt = 0, as_json: JsonOpt = False
    ) -> None:
        """The option to choose and why: volume against break-even, probability of being
        cheapest, utilisation, capability tax, idle-cost choices, and your answers in the
        scenario's `decision:` section (residency, fine-tuning, GPU ops skill, quality bar,
        latency target, willingness to re-benchmark)."""
        from llm_tco.recommend_eval import recommend as run
        from llm_tco.scenario import load_scenario

        result = run(load_scenario(file), samples, seed)
        _dump(result) if as_json else render_recommendation(result, stdout)
