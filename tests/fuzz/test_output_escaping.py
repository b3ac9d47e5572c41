"""Names from a scenario cannot run in a spreadsheet or break a Markdown table."""

from __future__ import annotations

import csv
import io
import re

from fuzz_support import FUZZ
from hypothesis import given
from hypothesis import strategies as st

import support
from llm_tco.report import text


def result_with(name: str) -> object:
    return support.run(
        {
            "workload": {"tokens_per_month": "1B", "input_share": 0.5},
            "options": [
                {"name": name, "api": {"input_per_mtok": 1, "output_per_mtok": 2}},
                {"name": "other", "api": {"input_per_mtok": 2, "output_per_mtok": 3}},
            ],
        }
    )


def cells_of(row: str) -> list[str]:
    """A Markdown table row split on its unescaped pipes (an escaped backslash escapes
    nothing after it)."""
    cells, current, i = [], "", 0
    while i < len(row):
        if row[i] == "\\" and i + 1 < len(row):
            current += row[i : i + 2]
            i += 2
            continue
        if row[i] == "|":
            cells.append(current)
            current = ""
        else:
            current += row[i]
        i += 1
    return [*cells, current]


def test_formula_names_are_quoted_in_csv() -> None:
    out = text.render_csv(result_with('=HYPERLINK("http://x","y")'))  # type: ignore[arg-type]
    rows = list(csv.reader(io.StringIO(out)))
    names = {row[1] for row in rows[1:] if row[0] == "option"}
    assert names == {'\'=HYPERLINK("http://x","y")', "other"}


def test_a_backslash_before_a_pipe_keeps_the_markdown_table() -> None:
    out = text.render_markdown(result_with("a\\|b"))  # type: ignore[arg-type]
    rows = [line for line in out.splitlines() if line.startswith("|") and "a\\" in line]
    assert rows
    for line in rows:  # the name is one whole cell, its backslash and pipe both escaped
        assert any("a\\\\\\|b" in cell for cell in cells_of(line)), line


@FUZZ
@given(st.text(alphabet=st.sampled_from("ab|\\=+-@ "), min_size=1, max_size=12))
def test_any_name_keeps_tables_whole(name: str) -> None:
    if not name.strip() or name.strip() == "other":
        return
    result = result_with(name)
    for row in csv.reader(io.StringIO(text.render_csv(result))):  # type: ignore[arg-type]
        assert not re.match(r"^[=+\-@]", row[1])
    lines = text.render_markdown(result).splitlines()  # type: ignore[arg-type]
    tables: list[list[str]] = [[]]
    for line in lines:
        if line.startswith("|"):
            tables[-1].append(line)
        elif tables[-1]:
            tables.append([])
    for table in tables:  # every row of a table has its header's width
        assert len({len(cells_of(row)) for row in table}) <= 1, table
