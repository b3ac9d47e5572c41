"""Commands for deciding under uncertainty: simulate, sensitivity, recommend.

``register(app)`` adds them to the main ``llm-tco`` app; heavy imports stay inside commands.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from llm_tco.cli import FormatOpt, OutputFormat, WideOpt
from llm_tco.report.tables import Shown, emit_tables, from_view
from llm_tco.report.terminal import Col

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
# Kept for scripts written before `-f json`: the same as `-f json`.
JsonOpt = Annotated[bool, typer.Option("--json", hidden=True, help="the same as -f json")]


def simulation_shown(sim: Any) -> tuple[list[Shown], list[str]]:
    """The simulation's tables (as the page and the reports show them) and notes under them."""
    from llm_tco.report.decision_view import simulation_tables

    tables = simulation_tables(sim)
    after = []
    if sim.held_at_point and "simulation_breakeven" not in tables:
        after.append("held at their point value: " + ", ".join(sim.held_at_point))
    return [from_view(t) for t in tables.values()], after


def render_simulation(sim: Any, console: Console, wide: bool = False) -> None:
    """The simulation under `evaluate --samples N`'s tables."""
    from llm_tco.report.tables import emit_tables

    tables, after = simulation_shown(sim)
    emit_tables(sim, (), tables, "table", console, wide, after=after)


def sensitivity_shown(sens: Any, spread: float) -> list[Shown]:
    from llm_tco.report.decision_view import tornado_table

    # At 80 columns: the input (its path wrapped after its dots), the swing and where the
    # verdict flips; the range and the gap at each end when there is room.
    drop = {"low": 2, "high": 2, "gap at low": 1, "gap at high": 1}
    shown = from_view(tornado_table(sens, spread), drop=drop)
    cols = [replace(c, kind="text", breaks=".]") if c.header == "input" else c for c in shown.cols]
    return [replace(shown, cols=cols)]


def recommendation_shown(rec: Any) -> tuple[list[str], list[Shown], list[str]]:
    """Lines above, tables, and notes under: the recommendation, then its simulation."""
    from llm_tco.report.decision_view import idle_table, recommendation_view, tax_table

    view = recommendation_view(rec)
    reasons = Shown(
        "Reasons",
        [Col("weighs", "id"), Col("reason", "text"), Col("evidence", "note")],
        [[r.label, r.text, r.evidence] for r in view.reasons],
    )
    tables = [reasons]
    tax, idle = tax_table(rec), idle_table(rec)
    if tax is not None:
        tables.append(from_view(tax, drop={"with retries": 1}))
    if idle is not None:
        tables.append(from_view(idle, {"how": "note"}))
    after = [*view.notes, *(f"Capability tax: {t.explanation}" for t in rec.capability_tax)]
    if rec.simulation is not None:
        sim_tables, sim_after = simulation_shown(rec.simulation)
        tables += sim_tables
        after += sim_after
    return [view.summary], tables, after


def _format(output: OutputFormat, as_json: bool) -> str:
    return "json" if as_json else output.value


def register(app: typer.Typer) -> None:
    from llm_tco.cli import cli_errors, stdout

    @app.command()
    @cli_errors
    def simulate(
        file: FileArg,
        samples: SamplesOpt = 10_000,
        seed: SeedOpt = None,
        output: FormatOpt = OutputFormat.table,
        wide: WideOpt = False,
        as_json: JsonOpt = False,
    ) -> None:
        """Monte Carlo over the scenario's ranges: P10/P50/P90 monthly cost per option, the
        probability each is cheapest, and the break-even volume as a distribution."""
        from llm_tco.scenario import load_scenario
        from llm_tco.simulate import simulate as run

        result = run(load_scenario(file), samples, seed)
        tables, after = simulation_shown(result)
        emit_tables(result, [], tables, _format(output, as_json), stdout, wide, after=after)

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
        output: FormatOpt = OutputFormat.table,
        wide: WideOpt = False,
        as_json: JsonOpt = False,
    ) -> None:
        """Tornado: which inputs move the cost gap between two options most across their
        ranges, and the input value at which the verdict flips."""
        from llm_tco.scenario import load_scenario
        from llm_tco.sensitivity import tornado

        result = tornado(load_scenario(file), option, versus, spread)
        tables = sensitivity_shown(result, spread)
        emit_tables(result, [], tables, _format(output, as_json), stdout, wide)

    @app.command()
    @cli_errors
    def recommend(
        file: FileArg,
        samples: SamplesOpt = 10_000,
        seed: SeedOpt = 0,
        output: FormatOpt = OutputFormat.table,
        wide: WideOpt = False,
        as_json: JsonOpt = False,
    ) -> None:
        """The option to choose and why: volume against break-even, probability of being
        cheapest, utilisation, capability tax, idle-cost choices, and your answers in the
        scenario's `decision:` section (residency, fine-tuning, GPU ops skill, quality bar,
        latency target, willingness to re-benchmark)."""
        from llm_tco.recommend_eval import recommend as run
        from llm_tco.scenario import load_scenario

        result = run(load_scenario(file), samples, seed)
        lines, tables, after = recommendation_shown(result)
        fmt = _format(output, as_json)
        emit_tables(result, lines, tables, fmt, stdout, wide, after=after)
