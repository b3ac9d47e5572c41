"""What `llm-tco catalog refresh-prices` prints: which price data is in use, and what changed."""

from __future__ import annotations

from rich.console import Console

from llm_tco.catalog.price_refresh import PriceDataStatus, PriceRefresh
from llm_tco.report.tables import Shown, emit_tables
from llm_tco.report.terminal import Col


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _status_line(status: PriceDataStatus) -> str:
    when = status.date.isoformat() if status.date else "undated"
    if status.in_use == "refreshed":
        origin = status.url or status.path
        return f"In use: {status.label} (from {origin}); the bundled data is the fallback."
    return f"In use: {status.label}, newest price change {when}; no refreshed copy saved."


def show_status(status: PriceDataStatus, output: str, console: Console, wide: bool) -> None:
    emit_tables(status, [_status_line(status)], [], output, console, wide)


def show_refresh(refresh: PriceRefresh, output: str, console: Console, wide: bool) -> None:
    verb = "Saved" if refresh.written else "Would save (dry run)"
    lines = [
        f"{verb}: {refresh.providers} providers, {refresh.models} models from {refresh.url} "
        f"on {refresh.fetched_on}.",
        _status_line(refresh.status),
        f"{len(refresh.changes)} model(s) with a changed input or output price.",
    ]
    rows = [
        [
            c.model,
            c.provider,
            f"{_money(c.old_input_per_mtok)} / {_money(c.old_output_per_mtok)}",
            f"{_money(c.new_input_per_mtok)} / {_money(c.new_output_per_mtok)}",
        ]
        for c in refresh.changes
    ]
    cols = [
        Col("model", "id"),
        Col("provider", "id", drop=1),
        Col("before\nin / out $/MTok", "num"),
        Col("now\nin / out $/MTok", "num"),
    ]
    emit_tables(refresh, lines, [Shown("Price changes", cols, rows)], output, console, wide)
