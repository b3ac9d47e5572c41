"""One result model shown as a few tables, in the four output formats every command offers.

JSON is the model itself; CSV is the first (main) table; Markdown and the terminal show every
table, the terminal fitted to 80 columns (see :mod:`llm_tco.report.terminal`).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel
from rich.console import Console
from rich.text import Text

from llm_tco.report.table import Table
from llm_tco.report.terminal import Col, Kind, one_line, print_table


@dataclass(frozen=True)
class Shown:
    """A titled table of display strings; ``note`` is printed under it."""

    title: str
    cols: Sequence[Col]
    rows: Sequence[Sequence[str]]
    note: str | None = None


def from_view(
    table: Table, kinds: Mapping[str, Kind] | None = None, drop: Mapping[str, int] | None = None
) -> Shown:
    """A report view's table (the one the page and the reports show) for the terminal.

    A right-aligned column is a number and a left-aligned one an id, unless ``kinds`` says
    otherwise (``text`` wraps, ``note`` becomes a numbered footnote); ``drop`` says which
    columns may be left out at narrow widths (see :class:`~llm_tco.report.terminal.Col`).
    """
    kinds, drop = kinds or {}, drop or {}
    cols = [
        Col(
            name,
            kinds.get(name, "num" if align == "right" else "id"),
            drop=drop.get(name, 0),
            right=align == "right",
        )
        for name, align in zip(table.columns, table.align, strict=True)
    ]
    return Shown(table.title, cols, table.rows, table.note)


def emit_tables(
    model: BaseModel,
    lines: Sequence[str],
    tables: Sequence[Shown],
    output: str,
    console: Console,
    wide: bool = False,
    *,
    after: Sequence[str] = (),
    csv_table: Shown | None = None,
) -> None:
    """``lines``: sentences shown above the tables, ``after``: notes shown under them (neither
    in CSV; JSON has the model). CSV is ``csv_table``, or else the first table."""
    if output == "json":
        sys.stdout.write(model.model_dump_json(indent=2) + "\n")
        return
    if output == "csv":
        main = csv_table or (tables[0] if tables else None)
        writer = csv.writer(sys.stdout, lineterminator="\n")
        if main is not None:
            writer.writerow([one_line(c.header) for c in main.cols])
            writer.writerows(main.rows)
        return
    if output == "markdown":
        from llm_tco.catalog.views import markdown_table
        from llm_tco.report.markdown import md_text

        parts = [md_text(line) + "\n" for line in lines]
        for t in tables:
            parts.append("\n" + markdown_table(t.title, t.cols, t.rows))
            if t.note:
                parts.append("\n" + md_text(t.note) + "\n")
        parts += ["\n" + "\n".join(f"- {md_text(line)}" for line in after) + "\n"] if after else []
        sys.stdout.write("".join(parts))
        return
    for line in lines:
        console.print(Text(line))
    for table in tables:
        print_table(console, table.title, table.cols, table.rows, wide=wide)
        if table.note:
            console.print(Text(table.note, style="dim"))
    for line in after:
        console.print(Text(line))
