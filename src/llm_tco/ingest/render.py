"""Rich tables for an :class:`IngestSummary` (the JSON output is the model itself)."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table

from llm_tco.ingest.model import GroupSummary, IngestSummary

SPARK = " ▁▂▃▄▅▆▇█"


def count(value: float | None) -> str:
    """1234567 -> '1.23M'."""
    if value is None:
        return "unknown"
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.3g}"


def share(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.1%}"


def usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"


def sparkline(values: list[float]) -> str:
    top = max(values, default=0.0)
    if top <= 0:
        return ""
    return "".join(SPARK[round(v / top * (len(SPARK) - 1))] for v in values)


def render(summary: IngestSummary, console: Console) -> None:
    console.print(_overview(summary))
    if summary.rows_rejected or summary.rows_skipped:
        console.print(_rejects(summary))
    for name, group in summary.groups.items():
        console.print(Group(_group_table(name, group), _months(group), _models(group)))
    for note in summary.notes:
        console.print(f"[yellow]note:[/] {note}")
    if summary.unpriced_models:
        console.print(
            "[yellow]not in the catalog (no list price):[/] " + ", ".join(summary.unpriced_models)
        )


def _overview(summary: IngestSummary) -> Table:
    table = Table(title="Logs read", show_header=False)
    table.add_row("formats", ", ".join(summary.formats))
    table.add_row("span", f"{summary.first_day} .. {summary.last_day} ({summary.days} days)")
    table.add_row("rows read", f"{summary.rows_read:,}")
    table.add_row("rows used", f"{summary.rows_used:,}")
    table.add_row("rows rejected", f"{sum(summary.rows_rejected.values()):,}")
    if summary.rows_skipped:
        table.add_row("rows skipped (not model calls)", f"{sum(summary.rows_skipped.values()):,}")
    return table


def _rejects(summary: IngestSummary) -> Table:
    table = Table(title="Rows not used")
    table.add_column("reason")
    table.add_column("rows", justify="right")
    table.add_column("sample")
    for reason, rows in summary.rows_rejected.items():
        samples = summary.rejected_samples.get(reason, [])
        table.add_row(reason, f"{rows:,}", samples[0] if samples else "")
    for reason, rows in summary.rows_skipped.items():
        table.add_row(f"skipped: {reason}", f"{rows:,}", "")
    return table


def _group_table(name: str, g: GroupSummary) -> Table:
    table = Table(title=f"Workload: {name}", show_header=False)
    table.add_row("requests (logged)", count(g.requests))
    table.add_row(
        "input / output / cached tokens (logged)",
        f"{count(g.input_tokens)} / {count(g.output_tokens)} / {count(g.cached_input_tokens)}",
    )
    table.add_row(
        f"per month ({g.monthly_basis})",
        f"{count(g.input_tokens_per_month)} in, {count(g.output_tokens_per_month)} out, "
        f"{count(g.requests_per_month)} requests",
    )
    table.add_row("growth per 30 days (tokens per day)", share(g.monthly_growth))
    table.add_row("input share of tokens", share(g.input_share))
    table.add_row(
        "peak-to-mean (p95 hour / mean hour)",
        "unknown" if g.peak_to_mean is None else f"{g.peak_to_mean:.2f}",
    )
    table.add_row("hourly profile, UTC 0..23", sparkline(g.hourly_profile) or "unknown")
    table.add_row(
        "weekend day / weekday",
        "unknown" if g.weekend_to_weekday is None else f"{g.weekend_to_weekday:.2f}",
    )
    table.add_row("batch share", share(g.batch_share))
    table.add_row("cache-hit share of input", share(g.cached_input_share))
    if g.cache_write_input_share is not None:
        table.add_row("cache-write share of input", share(g.cache_write_input_share))
    table.add_row(
        "prefix reuse of input (logged prompts)",
        f"{share(g.prefix_reuse_share)} of {g.prefix_reuse_requests:,} requests"
        if g.prefix_reuse_share is not None
        else "unknown (no prompts or prompt hashes)",
    )
    table.add_row("cost at catalog prices (logged period)", usd(g.catalog_cost_usd))
    table.add_row("billed according to the logs", usd(g.billed_usd))
    return table


def _months(g: GroupSummary) -> Table:
    table = Table(title="Per calendar month")
    for column in ("month", "whole", "requests", "input", "output", "cached"):
        table.add_column(column, justify="left" if column == "month" else "right")
    for month, m in g.months.items():
        table.add_row(
            month,
            "yes" if m.whole else "partial",
            count(m.requests),
            count(m.input_tokens),
            count(m.output_tokens),
            count(m.cached_input_tokens),
        )
    return table


def _models(g: GroupSummary) -> Table:
    table = Table(title="Per model")
    for column in ("model", "requests", "input", "output", "cached", "catalog", "billed"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for m in g.models:
        table.add_row(
            m.model,
            count(m.requests),
            count(m.input_tokens),
            count(m.output_tokens),
            count(m.cached_input_tokens),
            usd(m.catalog_cost_usd),
            usd(m.billed_usd),
        )
    return table
