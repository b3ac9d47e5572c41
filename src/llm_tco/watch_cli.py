"""`llm-tco watch`: tell a team when its decision should be revisited."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from llm_tco.cli import FormatOpt, OutputFormat, WideOpt, cli_errors, console
from llm_tco.report.tables import Shown, emit_tables
from llm_tco.report.terminal import Col
from llm_tco.watch import DEFAULT_THRESHOLD, WatchReport


def register(app: typer.Typer) -> None:
    app.command("watch")(watch)


def _lines(report: WatchReport) -> list[str]:
    moved = [c for c in report.changes if c.kind != "baseline"]
    recorded = len(report.changes) - len(moved)
    said = [
        f"{report.scenarios} scenario(s): {len(moved)} change(s), "
        f"{report.verdict_flips} verdict flip(s)"
        + (f", {recorded} baseline(s) recorded" if recorded else "")
        + "."
    ]
    if report.verdict_flips:
        said.append("The cheapest option changed: revisit the decision (exit status 1).")
    elif not moved:
        said.append("Nothing moved since the last look.")
    return said


def _tables(report: WatchReport) -> list[Shown]:
    rows = [[c.scenario, c.kind, c.subject, c.before, c.now] for c in report.changes]
    cols = [
        Col("scenario", "id", drop=2),
        Col("what", "id"),
        Col("subject", "text"),
        Col("before", "text"),
        Col("now", "text"),
    ]
    return [Shown("Changes since the last look", cols, rows)] if rows else []


@cli_errors
def watch(
    scenarios: Annotated[
        list[Path], typer.Argument(help="scenario files to re-evaluate (YAML or JSON)")
    ],
    prices: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="price API options from this genai-prices data.json (default: the data "
            "`catalog refresh-prices` saved, else the bundled snapshot)",
        ),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR", help="where the last look at each scenario is kept (default: cache)"
        ),
    ] = None,
    threshold: Annotated[
        float,
        typer.Option(min=0.0, help="report a break-even that moved more than this share"),
    ] = DEFAULT_THRESHOLD,
    keep: Annotated[
        bool, typer.Option("--keep", help="compare only; keep the last look as the baseline")
    ] = False,
    output: FormatOpt = OutputFormat.table,
    wide: WideOpt = False,
) -> None:
    """Re-evaluate saved scenarios and say what changed since the last look.

    Run it from cron or CI after `llm-tco catalog refresh-prices` (and `refresh-offers`): each
    scenario is evaluated against the current prices and offers and compared with the last
    run's result, kept per scenario under `--state` (default `$LLM_TCO_CACHE_DIR/watch/`).
    Reports an API price that changed, the verdict (the cheapest option that can serve) and
    any break-even that moved more than `--threshold` (default 10%). The first run records
    the baseline.

    Exit status: 0 when no verdict flipped, 1 when one did (the decision should be
    revisited), 2 on bad input. The new result becomes the baseline unless `--keep`.

    Example: `llm-tco watch plans/*.yaml --state .llm-tco-watch`
    """
    from llm_tco.catalog import load_catalog
    from llm_tco.watch import watch as run
    from llm_tco.watch import with_price_file

    catalog = load_catalog()
    if prices is not None:
        catalog = with_price_file(catalog, prices)
    report = run(scenarios, catalog, state, threshold, update=not keep)
    emit_tables(report, _lines(report), _tables(report), output.value, console(), wide)
    if report.verdict_flips:
        raise typer.Exit(1)
