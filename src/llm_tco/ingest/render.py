"""Tables for an :class:`IngestSummary` in every output format (JSON is the model itself)."""

from __future__ import annotations

from rich.console import Console

from llm_tco.ingest.model import GroupSummary, IngestSummary
from llm_tco.report.tables import Shown, emit_tables
from llm_tco.report.terminal import Col

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


def render(summary: IngestSummary, output: str, console: Console, wide: bool = False) -> None:
    """The summary in any output format: JSON is the model; CSV the per-model table."""
    tables = [_overview(summary)]
    if summary.rows_rejected or summary.rows_skipped:
        tables.append(_rejects(summary))
    for name, group in summary.groups.items():
        tables += [_group_table(name, group), _months(group), _models(name, group)]
    after = [f"note: {note}" for note in summary.notes]
    if summary.unpriced_models:
        after.append("not in the catalog (no list price): " + ", ".join(summary.unpriced_models))
    every_model = Shown(
        "Per model",
        [Col("group", "id"), *MODEL_COLS],
        [[name, *row] for name, g in summary.groups.items() for row in _model_rows(g)],
    )
    emit_tables(summary, [], tables, output, console, wide, after=after, csv_table=every_model)


FIGURE_COLS = (Col("figure", "text"), Col("value", "text"))


def _overview(summary: IngestSummary) -> Shown:
    rows = [
        ["formats", ", ".join(summary.formats)],
        ["span", f"{summary.first_day} .. {summary.last_day} ({summary.days} days)"],
        ["rows read", f"{summary.rows_read:,}"],
        ["rows used", f"{summary.rows_used:,}"],
        ["rows rejected", f"{sum(summary.rows_rejected.values()):,}"],
    ]
    if summary.rows_skipped:
        rows.append(["rows skipped (not model calls)", f"{sum(summary.rows_skipped.values()):,}"])
    return Shown("Logs read", FIGURE_COLS, rows)


def _rejects(summary: IngestSummary) -> Shown:
    rows = []
    for reason, n in summary.rows_rejected.items():
        samples = summary.rejected_samples.get(reason, [])
        rows.append([reason, f"{n:,}", samples[0] if samples else ""])
    rows += [[f"skipped: {reason}", f"{n:,}", ""] for reason, n in summary.rows_skipped.items()]
    return Shown(
        "Rows not used", [Col("reason", "text"), Col("rows", "num"), Col("sample", "note")], rows
    )


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _hour_name(hour_of_week: int) -> str:
    return f"{WEEKDAYS[hour_of_week // 24]} {hour_of_week % 24:02d}:00"


def weekly_text(profile: list[float] | None) -> str:
    """The weekly profile in one line: its busiest and quietest hours against the mean hour."""
    if profile is None:
        return "unknown (needs hourly logs spanning at least a week)"
    top = max(range(len(profile)), key=profile.__getitem__)
    low = min(range(len(profile)), key=profile.__getitem__)
    return (
        f"168 hours, workload.weekly_profile with --out; busiest {_hour_name(top)} at "
        f"{profile[top]:.2f}x the mean hour, quietest {_hour_name(low)} at {profile[low]:.2f}x"
    )


def _group_table(name: str, g: GroupSummary) -> Shown:
    rows = [
        ["requests (logged)", count(g.requests)],
        [
            "input / output / cached tokens (logged)",
            f"{count(g.input_tokens)} / {count(g.output_tokens)} / {count(g.cached_input_tokens)}",
        ],
        [
            f"per month ({g.monthly_basis})",
            f"{count(g.input_tokens_per_month)} in, {count(g.output_tokens_per_month)} out, "
            f"{count(g.requests_per_month)} requests",
        ],
        ["growth per 30 days (tokens per day)", share(g.monthly_growth)],
        ["input share of tokens", share(g.input_share)],
        [
            "peak-to-mean (p95 hour / mean hour)",
            "unknown" if g.peak_to_mean is None else f"{g.peak_to_mean:.2f}",
        ],
        ["hourly profile, UTC 0..23", sparkline(g.hourly_profile) or "unknown"],
        [
            "weekend day / weekday",
            "unknown" if g.weekend_to_weekday is None else f"{g.weekend_to_weekday:.2f}",
        ],
        ["weekly profile (hour of week, UTC)", weekly_text(g.weekly_profile)],
        ["batch share", share(g.batch_share)],
        ["cache-hit share of input", share(g.cached_input_share)],
    ]
    if g.cache_write_input_share is not None:
        rows.append(["cache-write share of input", share(g.cache_write_input_share)])
    rows += [
        [
            "prefix reuse of input (logged prompts)",
            f"{share(g.prefix_reuse_share)} of {g.prefix_reuse_requests:,} requests"
            if g.prefix_reuse_share is not None
            else "unknown (no prompts or prompt hashes)",
        ],
        ["cost at catalog prices (logged period)", usd(g.catalog_cost_usd)],
        ["billed according to the logs", usd(g.billed_usd)],
    ]
    return Shown(f"Workload: {name}", FIGURE_COLS, rows)


def _months(g: GroupSummary) -> Shown:
    cols = [Col("month", "id"), Col("whole", "id")]
    cols += [Col(h, "num") for h in ("requests", "input", "output", "cached")]
    rows = [
        [
            month,
            "yes" if m.whole else "partial",
            count(m.requests),
            count(m.input_tokens),
            count(m.output_tokens),
            count(m.cached_input_tokens),
        ]
        for month, m in g.months.items()
    ]
    return Shown("Per calendar month", cols, rows)


MODEL_COLS = (
    Col("model", "id"),
    *(Col(h, "num") for h in ("requests", "input", "output", "cached")),
    Col("catalog", "num"),
    Col("billed", "num", drop=1),
)


def _model_rows(g: GroupSummary) -> list[list[str]]:
    return [
        [
            m.model,
            count(m.requests),
            count(m.input_tokens),
            count(m.output_tokens),
            count(m.cached_input_tokens),
            usd(m.catalog_cost_usd),
            usd(m.billed_usd),
        ]
        for m in g.models
    ]


def _models(name: str, g: GroupSummary) -> Shown:
    return Shown(f"Per model: {name}", MODEL_COLS, _model_rows(g))
