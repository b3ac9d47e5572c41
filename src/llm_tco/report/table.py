"""A titled table of display strings: the unit every report view is made of."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Align = Literal["left", "right"]


class Table(BaseModel):
    """A titled table of strings; ``align`` has one entry per column."""

    title: str
    columns: list[str]
    align: list[Align]
    rows: list[list[str]]
    note: str | None = None
