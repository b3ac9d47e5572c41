"""``llm-tco plan``: the cheapest way to serve a scenario's model; the main CLI calls
:func:`register`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from llm_tco.cli import FileArg, FormatOpt, OutputFormat, WideOpt, cli_errors, console


def _names(values: list[str] | None) -> tuple[str, ...] | None:
    if not values:
        return None
    return tuple(v.strip() for text in values for v in text.split(",") if v.strip())


ListOpt = Annotated[list[str] | None, typer.Option(help="comma-separated; may repeat")]


@cli_errors
def plan(
    file: FileArg,
    option: Annotated[
        str | None, typer.Option(help="the self-hosted option to search for (default: the first)")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="search for this catalog model instead of the option's")
    ] = None,
    gpu: ListOpt = None,
    precision: ListOpt = None,
    forbid_precision: ListOpt = None,
    engine: ListOpt = None,
    output: FormatOpt = OutputFormat.table,
    wide: WideOpt = False,
) -> None:
    """Every way to self-host the scenario's model - GPU x precision x GPUs per replica x engine
    x offer, replicas sized to the peak and SLO - ranked by monthly cost, with the cost vs
    latency front, the hosted APIs that serve the same model, and why candidates were dropped.
    """
    from llm_tco.catalog import load_catalog
    from llm_tco.plan import build, render, search
    from llm_tco.scenario import load_scenario

    scenario = load_scenario(Path(file))
    catalog = load_catalog()
    limits = build.Limits(
        gpus=_names(gpu),
        precisions=_names(precision),
        forbid_precisions=_names(forbid_precision) or (),
        engines=_names(engine),
    )
    space = build.space_for(scenario, catalog, option, model, limits)
    result = search.search(space, catalog)
    if output is OutputFormat.json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    elif output is OutputFormat.markdown:
        sys.stdout.write(render.render_markdown(result))
    elif output is OutputFormat.csv:
        sys.stdout.write(render.render_csv(result))
    else:
        render.render_terminal(result, console(), wide=wide)


def register(app: typer.Typer) -> None:
    """Add the ``plan`` command to ``app``."""
    app.command("plan")(plan)
