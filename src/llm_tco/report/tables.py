"""One result model shown as a few tables, in the four output formats every command offers.

JSON is the model itself; CSV is the first (main) table; Markdown and the terminal show every
table, the terminal fitted to 80 columns (see :mod:`llm_tco.report.terminal`).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel
from rich.console import Console
from rich.text import Text

from llm_tco.report.terminal import Col, one_line, print_table


@dataclass(frozen=True)
class Shown:
    """A titled table of display strings."""

    title: str
    cols: Sequence[Col]
    rows: Sequence[Sequence[str]]


def emit_tables(
    model: BaseModel,
    lines: Sequence[str],
    tables: Sequence[Shown],
    output: str,
    console: Console,
    wide: bool = False,
) -> None:
    """``lines``: sentences shown above the tables (not in CSV; JSON has the model)."""
    if output == "json":
        sys.stdout.write(model.model_dump_json(indent=2) + "\n")
        return
    if output == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        if tables:
            writer.writerow([one_line(c.header) for c in tables[0].cols])
            writer.writerows(tables[0].rows)
        return
    if output == "markdown":
        from llm_tco.catalog.views import markdown_table
        from llm_tco.report.markdown import md_text

        parts = [md_text(line) + "\n" for line in lines]
        parts += ["\n" + markdown_table(t.title, t.cols, t.rows) for t in tables]
        sys.stdout.write("".join(parts))
        return
    for line in lines:
        console.print(Text(line))
    for table in tables:
        print_table(console, table.title, table.cols, table.rows, wide=wide)
