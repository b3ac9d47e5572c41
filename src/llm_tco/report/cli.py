"""`llm-tco report FILE -o report.html|report.md`: a shareable report of a scenario, or of a
benchmark result (told apart by content)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from llm_tco.errors import LlmTcoError

HTML_SUFFIXES = (".html", ".htm")
MARKDOWN_SUFFIXES = (".md", ".markdown")
# Top-level keys that only a benchmark result has: llm-tco's own, GuideLLM's, vllm bench serve's.
BENCH_KEYS = ("levels", "benchmarks", "output_throughput")
SCENARIO_KEYS = ("workload", "options")


def output_kind(output: Path) -> Literal["html", "md"]:
    suffix = output.suffix.lower()
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in MARKDOWN_SUFFIXES:
        return "md"
    raise LlmTcoError(
        f"cannot tell the format of '{output.name}'",
        field="--output",
        hint="end the name in .html or .md",
    )


def file_kind(path: Path) -> Literal["scenario", "bench"]:
    """Whether ``path`` holds a scenario or a benchmark result, from what is in it."""
    from llm_tco.documents import MAX_DOCUMENT_BYTES
    from llm_tco.errors import ScenarioError
    from llm_tco.scenario import read_document

    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise LlmTcoError(f"no such file: {path}", field="FILE") from None
    except OSError as exc:
        raise LlmTcoError(f"cannot read {path}: {exc.strerror}", field="FILE") from None
    if size > MAX_DOCUMENT_BYTES:
        return "bench"  # no scenario is this big; the result reader says what this is
    data: Any
    try:
        data = read_document(path)  # bounded: size, depth, aliases, duplicate keys
    except ScenarioError:
        return "scenario"  # the scenario loader says what is wrong, in the same words
    if isinstance(data, dict):
        if any(key in data for key in BENCH_KEYS):
            return "bench"
        if any(key in data for key in SCENARIO_KEYS):
            return "scenario"
    raise LlmTcoError(
        f"{path.name} is neither a scenario nor a benchmark result",
        field="FILE",
        hint="a scenario has `workload:` and `options:`; a result from `llm-tco bench` has "
        "`levels` (GuideLLM and vllm bench serve JSON are read too)",
    )


def write_report(built: Any, output: Path) -> list[Path]:
    """Write a scenario or benchmark report to ``output`` (.html or .md with PNGs beside it)."""
    if output_kind(output) == "md":
        from llm_tco.report.markdown import write_markdown_report

        return write_markdown_report(built, output)
    from llm_tco.report.bench_view import BenchReport
    from llm_tco.report.html import render_bench_html, render_html

    html = render_bench_html(built) if isinstance(built, BenchReport) else render_html(built)
    output.write_text(html, encoding="utf-8")
    return [output]


def register(app: typer.Typer) -> None:
    from llm_tco.cli import cli_errors

    @app.command()
    @cli_errors
    def report(
        file: Annotated[
            Path, typer.Argument(help="scenario file (YAML or JSON), or a benchmark result JSON")
        ],
        output: Annotated[
            Path,
            typer.Option(
                "--output",
                "-o",
                help="report.html (one self-contained file) or report.md (PNG charts beside it)",
            ),
        ] = Path("report.html"),
        samples: Annotated[
            int,
            typer.Option(min=0, max=100_000, help="simulated months when the scenario has ranges"),
        ] = 10_000,
        seed: Annotated[int | None, typer.Option(help="random seed: same seed, same report")] = 0,
    ) -> None:
        """Write a report. For a scenario: every option's cost and line items, the
        recommendation with its reasons, break-evens, sweep, simulation bands, tornado,
        warnings, assumptions with sources, and charts. For a benchmark result: throughput
        against latency, cost per MTok by load and the SLO knee. HTML opens offline; Markdown
        gets PNG charts."""
        output_kind(output)  # a bad name fails before any work
        built: Any
        if file_kind(file) == "bench":
            from llm_tco.bench import load_result
            from llm_tco.report.bench_view import build_bench_report

            built = build_bench_report(load_result(file))
        else:
            from llm_tco.report.view import build_report
            from llm_tco.scenario import load_scenario

            built = build_report(load_scenario(file), samples=samples, seed=seed)
        for path in write_report(built, output):
            typer.echo(f"wrote {path}")
