"""`llm-tco report FILE -o report.html|report.md`: a shareable report of a scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    from llm_tco.cli import cli_errors

    @app.command()
    @cli_errors
    def report(
        file: Annotated[Path, typer.Argument(help="scenario file (YAML or JSON)")],
        output: Annotated[
            Path,
            typer.Option(
                "--output",
                "-o",
                help="report.html (one self-contained file) or report.md (PNG charts beside it)",
            ),
        ] = Path("report.html"),
    ) -> None:
        """Write a report: every option's cost and line items, break-evens, sweep, warnings,
        assumptions with sources, and charts. HTML opens offline; Markdown gets PNG charts."""
        from llm_tco.errors import LlmTcoError
        from llm_tco.report.view import build_report
        from llm_tco.scenario import load_scenario

        suffix = output.suffix.lower()
        if suffix not in (".html", ".htm", ".md", ".markdown"):
            raise LlmTcoError(
                f"cannot tell the format of '{output.name}'",
                field="--output",
                hint="end the name in .html or .md",
            )
        built = build_report(load_scenario(file))
        if suffix in (".md", ".markdown"):
            from llm_tco.report.markdown import write_markdown_report

            written = write_markdown_report(built, output)
        else:
            from llm_tco.report.html import render_html

            output.write_text(render_html(built), encoding="utf-8")
            written = [output]
        for path in written:
            typer.echo(f"wrote {path}")
