"""Tables for the terminal, laid out for 80 columns first.

An id or a number is never cut: when the columns do not fit the terminal, the least needed
ones are left out (and named under the table), long text wraps, and sources become numbered
footnotes listed under the table. ``--wide``, or output that is not a terminal (a pipe, a
file), prints every column in full, one row per line.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Literal

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

Kind = Literal["id", "num", "text", "note"]


@dataclass(frozen=True)
class Col:
    """One column. ``kind``: ``id`` and ``num`` never wrap or shorten; ``text`` wraps; ``note``
    (a source, a long explanation) becomes a footnote number at terminal widths. ``drop``: 0
    is always shown; the highest is left out first when the terminal is too narrow."""

    header: str
    kind: Kind = "text"
    drop: int = 0
    right: bool | None = None
    into_note: bool = False  # when left out, its value joins the row's note ("..., as of X")
    breaks: str = ""  # a ``text`` cell with no space may wrap after these ("." in a path)

    @property
    def align_right(self) -> bool:
        return self.kind == "num" if self.right is None else self.right


def one_line(header: str) -> str:
    """'tokens/\\nmonth' -> 'tokens/month', 'util.\\nmean' -> 'util. mean'."""
    parts = header.split("\n")
    return "".join(p if p.endswith("/") else p + " " for p in parts[:-1]) + parts[-1]


def is_wide(console: Console, wide: bool) -> bool:
    """Full width when asked, and whenever the output is not a terminal."""
    return wide or not console.is_terminal


@contextmanager
def _width(console: Console, width: int):  # type: ignore[no-untyped-def]
    saved = console._width  # None: follow the terminal
    console.width = max(width, console.width)
    try:
        yield
    finally:
        console._width = saved


def natural_width(console: Console, renderable: Table, *, least: bool = False) -> int:
    """The width a table takes with no limit, or (``least``) the least it can take."""
    found = Measurement.get(console, console.options.update(width=100_000), renderable)
    return found.minimum if least else found.maximum


def _build(
    title: str | None,
    cols: Sequence[Col],
    rows: Sequence[Sequence[str]],
    *,
    wide: bool,
    caption: str | None = None,
) -> Table:
    table = Table(
        caption=caption,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 0, 0, 1),
    )
    for i, col in enumerate(cols):
        header = one_line(col.header) if wide else col.header
        keep = wide or col.kind in ("id", "num")
        whole = max([cell_len(row[i]) for row in rows] + [cell_len(h) for h in header.split("\n")])
        table.add_column(
            header,
            justify="right" if col.align_right else "left",
            no_wrap=keep,
            overflow="fold",
            min_width=whole if keep else None,
        )
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def footnote_numbers(
    rows: Sequence[Sequence[str]], cols: Sequence[Col]
) -> tuple[list[list[str]], list[str]]:
    """Rows with each ``note`` cell replaced by ``[n]``, and the notes in order of first use."""
    notes: list[str] = []
    out = []
    for row in rows:
        cells = list(row)
        for i, col in enumerate(cols):
            if col.kind == "note" and cells[i]:
                if cells[i] not in notes:
                    notes.append(cells[i])
                cells[i] = f"[{notes.index(cells[i]) + 1}]"
        out.append(cells)
    return out, notes


def print_table(
    console: Console,
    title: str | None,
    cols: Sequence[Col],
    rows: Sequence[Sequence[str]],
    *,
    wide: bool = False,
    caption: str | None = None,
) -> None:
    """Print ``rows`` under ``cols``: fitted to the terminal, or in full (see module doc)."""
    if title:
        console.print(Text(title, style="bold"))
    if is_wide(console, wide):
        table = _build(title, cols, rows, wide=True, caption=caption)
        with _width(console, natural_width(console, table)):
            console.print(table)
        return
    shown = list(range(len(cols)))
    levels: list[int | None] = [0, *sorted({c.drop for c in cols if c.drop}, reverse=True)]
    if not any(c.kind == "note" for c in cols) and any(c.kind == "text" for c in cols):
        levels.append(None)  # last resort: wrapped text becomes numbered notes
    for level in levels:
        if level is None:
            cols = [replace(c, kind="note") if c.kind == "text" else c for c in cols]
        elif level:
            shown = [i for i in shown if cols[i].drop < level]
        kept_cols, kept_rows, notes = _narrow(cols, rows, shown)
        kept_rows = _break_long_words(console, kept_cols, kept_rows, caption)
        table = _build(title, kept_cols, kept_rows, wide=False, caption=caption)
        needed = natural_width(console, table, least=True)
        if needed <= console.width:
            break
    with _width(console, needed):  # wider than the terminal only if ids alone do not fit
        console.print(table)
    hidden = [one_line(cols[i].header) for i in range(len(cols)) if i not in shown]
    if hidden:
        console.print(
            Text(f"not shown: {', '.join(hidden)} (--wide, or -f csv|json, shows every column)"),
            style="dim",
        )
    if any(c.kind == "note" for c in kept_cols):
        print_notes(console, notes)


def _narrow(
    cols: Sequence[Col], rows: Sequence[Sequence[str]], shown: list[int]
) -> tuple[list[Col], list[list[str]], list[str]]:
    """The shown columns, with left-out ``into_note`` values joined to each row's note, and
    the notes numbered."""
    note = next((i for i, c in enumerate(cols) if c.kind == "note"), None)
    merged = []
    for row in rows:
        cells = list(row)
        if note is not None and note in shown:
            extra = [
                f"{one_line(cols[i].header)} {cells[i]}"
                for i, c in enumerate(cols)
                if c.into_note and i not in shown and cells[i]
            ]
            cells[note] = "; ".join([cells[note], *extra]) if cells[note] else "; ".join(extra)
        merged.append([cells[i] for i in shown])
    kept = [cols[i] for i in shown]
    numbered, notes = footnote_numbers(merged, kept)
    return kept, numbered, notes


def _break_long_words(
    console: Console, cols: Sequence[Col], rows: list[list[str]], caption: str | None
) -> list[list[str]]:
    """Cells of ``breaks`` columns wrapped after their break characters to the room the other
    columns leave (the terminal wraps only at spaces)."""
    which = [i for i, c in enumerate(cols) if c.breaks and c.kind == "text"]
    if not which:
        return rows
    blank = [["" if i in which else cell for i, cell in enumerate(row)] for row in rows]
    others = natural_width(
        console, _build(None, cols, blank, wide=False, caption=caption), least=True
    )
    room = max(console.width - others, 12)
    return [
        [_wrap_at(cell, cols[i].breaks, room) if i in which else cell for i, cell in enumerate(row)]
        for row in rows
    ]


def _wrap_at(text: str, breaks: str, width: int) -> str:
    """``text`` in lines of at most ``width`` cells, broken after a character of ``breaks``
    (a part longer than ``width`` stays whole)."""
    parts, start = [], 0
    for i, char in enumerate(text):
        if char in breaks:
            parts.append(text[start : i + 1])
            start = i + 1
    parts.append(text[start:])
    lines = [""]
    for part in filter(None, parts):
        if lines[-1] and cell_len(lines[-1] + part) > width:
            lines.append("")
        lines[-1] += part
    return "\n".join(lines)


def print_notes(console: Console, notes: Sequence[str], start: int = 1) -> None:
    """Numbered notes, wrapped with a hanging indent: ``[1] text ...``."""
    if not notes:
        return
    width = len(f"[{start + len(notes) - 1}] ")
    grid = Table.grid(padding=(0, 0))
    grid.add_column(width=width, no_wrap=True)
    grid.add_column(overflow="fold")
    for i, note in enumerate(notes, start):
        grid.add_row(f"[{i}]", Text(note))
    console.print(grid)
