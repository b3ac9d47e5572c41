"""``llm-tco plan``: the cheapest way to serve a scenario's model; the main CLI calls
:func:`register`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from llm_tco.cli import FileArg, FormatOpt, OutputFormat, WideOpt, cli_errors, console
from llm_tco.core.capacity import engine_key
from llm_tco.core.memory import precision_key


def _names(values: list[str] | None) -> tuple[str, ...] | None:
    if not values:
        return None
    return tuple(v.strip() for text in values for v in text.split(",") if v.strip())


def _precisions(values: list[str] | None, field: str) -> tuple[str, ...] | None:
    """``_names`` read as formats (``FP8`` -> fp8, ``AWQ`` -> int4); a bad one names ``field``."""
    names = _names(values)
    return None if names is None else tuple(precision_key(name, field)[0] for name in names)


LISTED = 50  # deployments listed without --all: the cheapest, ties, and each layout's cheapest
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
    every: Annotated[
        bool,
        typer.Option(
            "--all", help="list every feasible deployment (default: the 50 cheapest + the front)"
        ),
    ] = False,
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
        precisions=_precisions(precision, "precision"),
        forbid_precisions=_precisions(forbid_precision, "forbid_precision") or (),
        engines=tuple(engine_key(e) for e in _names(engine) or ()) or None,
    )
    space = build.space_for(scenario, catalog, option, model, limits)
    result = search.search(space, catalog, keep=None if every else LISTED)
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
