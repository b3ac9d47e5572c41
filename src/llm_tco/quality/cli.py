"""``llm-tco quality``: the same prompt sample to several endpoints, every answer graded.

The main CLI calls :func:`register`. This module parses flags, calls :func:`run_pilot` and
renders the :class:`QualityResult`; errors print one line and exit with status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from llm_tco.errors import LlmTcoError

if TYPE_CHECKING:
    from llm_tco.quality.pilot import PilotSettings
    from llm_tco.quality.result import QualityResult

Format = Literal["table", "json", "markdown"]


def _print_tables(result: QualityResult, warnings: list[str], fmt: Format) -> None:
    from llm_tco.quality.report import build_view

    view = build_view(result, warnings)
    if fmt == "markdown":
        from llm_tco.report.markdown import md_table

        lines = [f"# {view.title}", "", view.headline, ""]
        for table in view.tables.values():
            lines += [*md_table(table), ""]
        lines += [f"- {w}" for w in view.warnings]
        sys.stdout.write("\n".join(lines) + "\n")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(soft_wrap=False)
    console.print(Text(view.headline))
    for table in view.tables.values():
        shown = Table(title=table.title, title_justify="left")
        for column, align in zip(table.columns, table.align, strict=True):
            shown.add_column(column, justify=align)
        for row in table.rows:
            shown.add_row(*(Text(cell) for cell in row))
        console.print(shown)
    for warning in view.warnings:
        Console(stderr=True).print(Text(f"warning: {warning}"))


def quality(
    prompts: Annotated[
        Path, typer.Option(help="JSONL or CSV: prompt or messages, reference, task")
    ],
    endpoint: Annotated[
        list[str],
        typer.Option(
            help="NAME=URL,model=M[,price_in=USD/MTok,price_out=USD/MTok,api=chat|completions,"
            "key_env=VAR,max_tokens=N,temperature=T]; repeat for each endpoint (the first is "
            "the baseline)"
        ),
    ],
    grade: Annotated[
        list[str],
        typer.Option(
            help="[TASK=]KIND[:ARG]: exact, regex:PATTERN, json, json-schema:FILE, numeric:TOL, "
            "python:module:function, judge; repeat (an answer must pass all that apply)"
        ),
    ],
    judge: Annotated[str | None, typer.Option(help="judge endpoint, as --endpoint")] = None,
    judge_prompt: Annotated[
        Path | None, typer.Option(help="judge prompt template with {answer} (and {prompt}, ...)")
    ] = None,
    rubric: Annotated[str | None, typer.Option(help="what the judge checks")] = None,
    pairwise: Annotated[
        bool, typer.Option(help="the judge also compares each endpoint's answers with the first's")
    ] = False,
    sample: Annotated[int, typer.Option(help="prompts to sample, stratified by task", min=1)] = 500,
    seed: Annotated[int, typer.Option(help="sampling seed")] = 0,
    reask: Annotated[int, typer.Option(help="re-ask a failed answer up to N times", min=0)] = 0,
    concurrency: Annotated[int, typer.Option(help="requests in flight per endpoint", min=1)] = 4,
    max_requests: Annotated[int, typer.Option(help="stop after this many requests", min=1)] = 5000,
    max_seconds: Annotated[float, typer.Option(help="stop after this long", min=1)] = 3600.0,
    max_usd: Annotated[float | None, typer.Option(help="never spend more than this", min=0)] = None,
    max_wait: Annotated[float, typer.Option(help="longest Retry-After honoured, s", min=0)] = 60.0,
    timeout: Annotated[float, typer.Option(help="per-request timeout, s", min=0.1)] = 120.0,
    folder: Annotated[Path, typer.Option("--dir", help="run folder: state and result")] = Path(
        "quality-run"
    ),
    keep_outputs: Annotated[
        bool, typer.Option(help="also store prompts, answers and judge replies in --dir")
    ] = False,
    fresh: Annotated[bool, typer.Option(help="discard the state in --dir and start over")] = False,
    html: Annotated[Path | None, typer.Option(help="write an HTML report here")] = None,
    out: Annotated[
        Path | None, typer.Option(help="write a scenario with the measured acceptance/retry ranges")
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(help="with --out: update this scenario's options of the same name"),
    ] = None,
    requests_per_month: Annotated[
        str | None, typer.Option(help="with --out and no --scenario: the monthly volume, e.g. 2M")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="no progress line")] = False,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="table, json or markdown")
    ] = "table",
) -> None:
    """Measure the capability tax on your own prompts: acceptance rate, retries, latency and
    cost per accepted output for each endpoint, with 95% intervals.

    Resumable: run the same command again to continue an interrupted run (Ctrl-C once stops
    sending and lets requests in flight finish; twice cancels them). Prompts and answers stay
    on this machine and are stored only with --keep-outputs.
    """
    from llm_tco.quality.endpoints import parse_endpoint
    from llm_tco.quality.graders import parse_grader
    from llm_tco.quality.judge import DEFAULT_RUBRIC
    from llm_tco.quality.pilot import PilotSettings
    from llm_tco.quality.runner import Limits

    try:
        settings = PilotSettings(
            prompts=prompts,
            endpoints=[parse_endpoint(text) for text in endpoint],
            graders=[parse_grader(text) for text in grade],
            folder=folder,
            sample=sample,
            seed=seed,
            max_attempts=1 + reask,
            judge=parse_endpoint(judge, "--judge") if judge else None,
            judge_template=str(judge_prompt) if judge_prompt else None,
            rubric=rubric or DEFAULT_RUBRIC,
            limits=Limits(
                max_requests=max_requests,
                max_seconds=max_seconds,
                max_usd=max_usd,
                max_wait_s=max_wait,
                concurrency=concurrency,
                timeout_s=timeout,
            ),
            keep_outputs=keep_outputs,
            fresh=fresh,
            pairwise=pairwise,
        )
        _run(settings, out, scenario, requests_per_month, html, quiet, fmt)
    except LlmTcoError as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise typer.Exit(2) from None


def _run(
    settings: PilotSettings,
    out: Path | None,
    scenario: Path | None,
    requests_per_month: str | None,
    html: Path | None,
    quiet: bool,
    fmt: Format,
) -> None:
    from llm_tco.core.units import parse_quantity
    from llm_tco.quality.errors import QualityError
    from llm_tco.quality.judge import PAIRWISE_PROMPT, load_template
    from llm_tco.quality.pilot import run_pilot
    from llm_tco.quality.report import render_html
    from llm_tco.quality.scenario_out import write_scenario

    volume = None
    if requests_per_month is not None:
        try:
            volume = parse_quantity(requests_per_month)
        except ValueError as exc:
            raise QualityError(str(exc), field="--requests-per-month") from None
    if out is not None and scenario is None and volume is None:
        raise QualityError(
            "a new scenario needs the monthly volume",
            field="--requests-per-month",
            hint="e.g. --requests-per-month 2M, or --scenario BASE.yaml to update your own",
        )
    if settings.judge is not None and not quiet:
        if any(g.kind == "judge" for g in settings.graders):
            sys.stderr.write("judge prompt:\n" + load_template(settings.judge_template) + "\n")
        if settings.pairwise:
            sys.stderr.write("pairwise judge prompt:\n" + PAIRWISE_PROMPT + "\n")
    progress = _Progress(quiet=quiet or fmt != "table" or not sys.stderr.isatty())
    result = run_pilot(settings, on_row=progress.row)
    progress.end()
    warnings: list[str] = []
    if out is not None:
        warnings = write_scenario(result, out, scenario, volume)
    if html is not None:
        html.write_text(render_html(result), encoding="utf-8")
    if fmt == "json":
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        for warning in warnings:
            sys.stderr.write(f"warning: {warning}\n")
    else:
        _print_tables(result, warnings, fmt)


class _Progress:
    """A one-line count of requests on stderr (nothing of the prompts)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.sent = 0
        self.accepted = 0

    def row(self, row: object) -> None:
        self.sent += 1
        self.accepted += (
            bool(getattr(row, "accepted", False)) and getattr(row, "role", "") == "answer"
        )
        if not self.quiet:
            sys.stderr.write(f"\rrequests {self.sent}, answers accepted {self.accepted}")
            sys.stderr.flush()

    def end(self) -> None:
        if not self.quiet and self.sent:
            sys.stderr.write("\n")


def register(app: typer.Typer) -> None:
    app.command("quality")(quality)
