"""From the hourly cube to the workload summary: pure arithmetic, no I/O.

Definitions (all times UTC):

* The log spans ``first_day``..``last_day``: the day of the earliest row to the day the latest
  row (or usage bucket) ends, both included; ``days`` counts them.
* A calendar month is *whole* when the span covers every day of it. Monthly volumes are the
  median over whole months; with none, the log's total scaled to 30 days (``total * 30 /
  days``, the 720-hour month the scenarios use).
* Monthly growth compares tokens *per day* in the first and last whole month (so February
  being shorter is not a fall), compounded over a 30-day month.
* Peak-to-mean is the 95th percentile (linear interpolation, numpy's default) of tokens per
  hour over every hour of the span, empty hours included, divided by the mean hourly tokens.
  It needs hourly data, so logs bucketed wider than an hour leave it unknown.
  It is never reported below 1: in a sparse log most hours are empty and the p95 hour can
  fall under the mean, which says nothing about the peak a deployment must serve.
* The weekly profile needs hourly data and a span of at least 168 hours (every hour of the
  week seen once): each hour of the week (hour 0 = Monday 00:00-01:00 UTC) gets its tokens
  over the times that hour occurs in the span (so a span of 10 days, which sees some hours
  twice, is not biased toward them), divided by the mean of the 168 values.
* Tokens are input + output; shares are of tokens (batch) or of input tokens (cache).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from llm_tco.catalog.prices import ApiPriceQuote
from llm_tco.ingest.model import (
    CubeRow,
    GroupSummary,
    IngestSummary,
    ModelUsage,
    MonthTotal,
    Scan,
)
from llm_tco.ingest.shape import request_shape

DAYS_PER_MONTH = 30  # 720 hours, the scenario default
HOUR_S = 3600
PEAK_PERCENTILE = 95.0
PriceLookup = Callable[[str], ApiPriceQuote | None]
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def hour_start(hour: int) -> dt.datetime:
    return EPOCH + dt.timedelta(hours=hour)


def _end_hour(row: CubeRow) -> int:
    """Last hour a row covers: its own for a request, the bucket's last for a usage bucket."""
    span_hours = max(1, int(np.ceil(row.bucket_seconds / HOUR_S)))
    return row.hour + span_hours - 1


def summarise(scan: Scan, price: PriceLookup | None = None) -> IngestSummary:
    """The whole summary: span, rejects, and one :class:`GroupSummary` per group."""
    cube = scan.cube
    notes: list[str] = []
    first_day: dt.date | None
    last_day: dt.date | None
    if cube:
        first_hour = min(r.hour for r in cube)
        last_hour = max(_end_hour(r) for r in cube)
        first_day, last_day = hour_start(first_hour).date(), hour_start(last_hour).date()
        days = (last_day - first_day).days + 1
    else:
        first_hour = last_hour = 0
        first_day = last_day = None
        days = 0
        notes.append("no valid rows")
    hourly = bool(cube) and max(r.bucket_seconds for r in cube) <= HOUR_S
    if cube and not hourly:
        notes.append(
            "usage is bucketed wider than an hour: peak-to-mean and hourly profile unknown"
        )
    by_group: dict[str, list[CubeRow]] = defaultdict(list)
    for row in cube:
        by_group[row.group].append(row)
    unpriced: set[str] = set()
    groups = {}
    span_minutes = (last_hour - first_hour + 1) * 60 if cube else 0
    for name in sorted(by_group):
        groups[name] = _group(
            by_group[name], first_day, last_day, (first_hour, last_hour), hourly, price, unpriced
        )
        if name in scan.shapes:
            shape = request_shape(scan.shapes[name], span_minutes)
            groups[name] = groups[name].model_copy(update={"shape": shape})
    return IngestSummary(
        formats=scan.formats,
        rows_read=scan.rows_read,
        rows_used=sum(r.rows for r in cube),
        rows_rejected={r.reason: r.rows for r in scan.rejected},
        rows_skipped={r.reason: r.rows for r in scan.skipped},
        rejected_samples={r.reason: r.samples for r in scan.rejected},
        first_day=first_day.isoformat() if first_day else None,
        last_day=last_day.isoformat() if last_day else None,
        days=days,
        unpriced_models=sorted(unpriced) if price else [],
        groups=groups,
        notes=notes,
        backend=scan.stats,
    )


def _group(
    rows: Sequence[CubeRow],
    first_day: dt.date | None,
    last_day: dt.date | None,
    hours: tuple[int, int],
    hourly: bool,
    price: PriceLookup | None,
    unpriced: set[str],
) -> GroupSummary:
    total_in = sum(r.input_tokens for r in rows)
    total_out = sum(r.output_tokens for r in rows)
    total_cached = sum(r.cached_input_tokens for r in rows)
    total_written = sum(r.cache_write_tokens for r in rows)
    reused = sum(r.reused_input_tokens for r in rows)
    measured = sum(r.reuse_measured_input_tokens for r in rows)
    requests_known = all(r.requests_known for r in rows)
    total_requests = sum(r.requests for r in rows) if requests_known else None
    months = _months(rows, first_day, last_day, requests_known)
    whole = [m for m in months.values() if m.whole]
    days = (last_day - first_day).days + 1 if first_day and last_day else 1

    def monthly(total: float, pick: Callable[[MonthTotal], float]) -> float:
        if whole:
            return float(statistics.median(pick(m) for m in whole))
        return total * DAYS_PER_MONTH / days

    basis = f"median of {len(whole)} whole months" if whole else f"scaled from {days} days"
    tokens = total_in + total_out
    models = _models(rows, price, unpriced)
    costs = [m.catalog_cost_usd for m in models]  # unpriced models are listed, not summed
    billed = [r.billed_usd for r in rows if r.billed_rows and r.billed_usd is not None]
    return GroupSummary(
        requests=total_requests,
        input_tokens=total_in,
        output_tokens=total_out,
        cached_input_tokens=total_cached,
        months=months,
        input_tokens_per_month=monthly(total_in, lambda m: m.input_tokens),
        output_tokens_per_month=monthly(total_out, lambda m: m.output_tokens),
        cached_input_tokens_per_month=monthly(total_cached, lambda m: m.cached_input_tokens),
        requests_per_month=(
            monthly(total_requests, lambda m: m.requests or 0.0)
            if total_requests is not None
            else None
        ),
        monthly_basis=basis,
        monthly_growth=_growth(months),
        input_share=total_in / tokens if tokens else None,
        peak_to_mean=_peak_to_mean(rows, hours) if hourly else None,
        hourly_profile=_hourly_profile(rows, tokens) if hourly else [],
        weekend_to_weekday=_weekend_ratio(rows, first_day, last_day),
        weekly_profile=_weekly_profile(rows, hours) if hourly else None,
        batch_share=sum(r.input_tokens + r.output_tokens for r in rows if r.batch) / tokens
        if tokens
        else None,
        cached_input_share=total_cached / total_in if total_in else None,
        cache_write_input_share=total_written / total_in if total_in and total_written else None,
        prefix_reuse_share=reused / measured if measured else None,
        prefix_reuse_requests=round(sum(r.reuse_measured_requests for r in rows)),
        models=models,
        catalog_cost_usd=sum(c for c in costs if c is not None)
        if any(c is not None for c in costs)
        else None,
        billed_usd=sum(billed) if billed else None,
    )


def _months(
    rows: Iterable[CubeRow], first: dt.date | None, last: dt.date | None, requests_known: bool
) -> dict[str, MonthTotal]:
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for row in rows:
        acc = sums[hour_start(row.hour).strftime("%Y-%m")]
        acc[0] += row.requests
        acc[1] += row.input_tokens
        acc[2] += row.output_tokens
        acc[3] += row.cached_input_tokens
    result = {}
    for month in sorted(sums):
        requests, input_tokens, output_tokens, cached = sums[month]
        result[month] = MonthTotal(
            requests=requests if requests_known else None,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cached_input_tokens=cached,
            whole=_is_whole(month, first, last),
        )
    return result


def _is_whole(month: str, first: dt.date | None, last: dt.date | None) -> bool:
    if first is None or last is None:
        return False
    start = dt.date.fromisoformat(month + "-01")
    next_start = (start + dt.timedelta(days=32)).replace(day=1)
    return first <= start and last >= next_start - dt.timedelta(days=1)


def _days_in(month: str) -> int:
    start = dt.date.fromisoformat(month + "-01")
    return ((start + dt.timedelta(days=32)).replace(day=1) - start).days


def _growth(months: dict[str, MonthTotal]) -> float | None:
    """Compound growth per 30-day month of the tokens *per day*, first to last whole month.

    Per day, so a short month is not read as a fall: 31 days of 1.0M/day then 28 days of
    1.012M/day is +1.2% (28.3M against 31M would read as -8.5%). The rate per day between
    the two months' midpoints, compounded over 30 days.
    """
    whole = [(k, m) for k, m in months.items() if m.whole]
    if len(whole) < 2:
        return None
    (first_key, first), (last_key, last) = whole[0], whole[-1]
    first_days, last_days = _days_in(first_key), _days_in(last_key)
    per_day_first = (first.input_tokens + first.output_tokens) / first_days
    per_day_last = (last.input_tokens + last.output_tokens) / last_days
    if per_day_first <= 0 or per_day_last <= 0:
        return None
    start = dt.date.fromisoformat(first_key + "-01")
    end = dt.date.fromisoformat(last_key + "-01")
    gap_days = (end - start).days + (last_days - first_days) / 2  # midpoint to midpoint
    daily = (per_day_last / per_day_first) ** (1 / gap_days)
    return float(daily**DAYS_PER_MONTH - 1)


def _hourly_series(rows: Iterable[CubeRow], hours: tuple[int, int]) -> np.ndarray:
    first, last = hours
    series = np.zeros(last - first + 1)
    for row in rows:
        series[row.hour - first] += row.input_tokens + row.output_tokens
    return series


def _peak_to_mean(rows: Sequence[CubeRow], hours: tuple[int, int]) -> float | None:
    series = _hourly_series(rows, hours)
    mean = float(series.mean()) if series.size else 0.0
    if mean <= 0:
        return None
    return max(1.0, float(np.percentile(series, PEAK_PERCENTILE)) / mean)


def _hourly_profile(rows: Iterable[CubeRow], tokens: float) -> list[float]:
    profile = [0.0] * 24
    for row in rows:
        profile[hour_start(row.hour).hour] += row.input_tokens + row.output_tokens
    return [v / tokens if tokens else 0.0 for v in profile]


HOURS_PER_WEEK = 168
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


def hour_of_week(hour: np.ndarray) -> np.ndarray:
    """Hour of the week (0 = Monday 00:00-01:00 UTC) of hours counted from the Unix epoch."""
    result: np.ndarray = ((hour // 24 + EPOCH_WEEKDAY) % 7) * 24 + hour % 24
    return result


def _weekly_profile(rows: Sequence[CubeRow], hours: tuple[int, int]) -> list[float] | None:
    """Relative load of each hour of the week (see the module docstring); None under a week."""
    first, last = hours
    if last - first + 1 < HOURS_PER_WEEK:
        return None
    seen = np.bincount(hour_of_week(np.arange(first, last + 1)), minlength=HOURS_PER_WEEK)
    tokens = np.bincount(
        hour_of_week(np.array([r.hour for r in rows], dtype=np.int64)),
        weights=np.array([r.input_tokens + r.output_tokens for r in rows], dtype=np.float64),
        minlength=HOURS_PER_WEEK,
    )
    per_hour = tokens / seen
    mean = float(per_hour.mean())
    if mean <= 0:
        return None
    return [float(v) for v in per_hour / mean]


def _weekend_ratio(
    rows: Iterable[CubeRow], first: dt.date | None, last: dt.date | None
) -> float | None:
    """Mean tokens per weekend day over mean tokens per weekday, over every day of the span."""
    if first is None or last is None:
        return None
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    weekend_days = sum(1 for d in days if d.weekday() >= 5)
    weekdays = len(days) - weekend_days
    if not weekend_days or not weekdays:
        return None
    weekend = weekday = 0.0
    for row in rows:
        tokens = row.input_tokens + row.output_tokens
        if hour_start(row.hour).weekday() >= 5:
            weekend += tokens
        else:
            weekday += tokens
    if weekday <= 0:
        return None
    return (weekend / weekend_days) / (weekday / weekdays)


def _models(
    rows: Iterable[CubeRow], price: PriceLookup | None, unpriced: set[str]
) -> list[ModelUsage]:
    by_model: dict[str, list[CubeRow]] = defaultdict(list)
    for row in rows:
        by_model[row.model].append(row)
    usages = []
    for name in sorted(by_model):
        items = by_model[name]
        quote = price(name) if price else None
        if price and quote is None:
            unpriced.add(name)
        billed = [r.billed_usd for r in items if r.billed_rows and r.billed_usd is not None]
        usages.append(
            ModelUsage(
                model=name,
                requests=sum(r.requests for r in items)
                if all(r.requests_known for r in items)
                else None,
                input_tokens=sum(r.input_tokens for r in items),
                output_tokens=sum(r.output_tokens for r in items),
                cached_input_tokens=sum(r.cached_input_tokens for r in items),
                catalog_cost_usd=sum(catalog_cost_usd(r, quote) for r in items) if quote else None,
                billed_usd=sum(billed) if billed else None,
                price_source=quote.source if quote else None,
            )
        )
    return usages


def catalog_cost_usd(row: CubeRow, quote: ApiPriceQuote) -> float:
    """USD for a cube row at list prices (USD per 1M tokens).

    cost = ((input - cached) * input_price + cached * cached_price + output * output_price) / 1e6,
    times (1 - batch discount) for batch traffic when the provider's discount is known.
    Cached input is billed at the input price when no cached price is listed.
    """
    cached_price = (
        quote.cached_input_per_mtok
        if quote.cached_input_per_mtok is not None
        else quote.input_per_mtok
    )
    cost = (
        (row.input_tokens - row.cached_input_tokens) * quote.input_per_mtok
        + row.cached_input_tokens * cached_price
        + row.output_tokens * quote.output_per_mtok
    ) / 1e6
    if row.batch and quote.batch_discount is not None:
        cost *= 1 - quote.batch_discount
    return cost


def workload_section(group: GroupSummary) -> dict[str, float]:
    """The scenario ``workload:`` keys for one group; unknown values are left out."""
    section: dict[str, float | None] = {
        "input_tokens_per_month": group.input_tokens_per_month,
        "output_tokens_per_month": group.output_tokens_per_month,
        "requests_per_month": group.requests_per_month,
        "input_tokens_per_request": (
            group.input_tokens / group.requests if group.requests else None
        ),
        "output_tokens_per_request": (
            group.output_tokens / group.requests if group.requests else None
        ),
        "peak_to_mean": group.peak_to_mean,
        "cached_input_share": group.cached_input_share,
        "batch_share": group.batch_share,
        "prefix_reuse_share": group.prefix_reuse_share,
        "cache_write_share": group.cache_write_input_share,
    }
    return {k: round(float(v), 6) for k, v in section.items() if v is not None}


def scenario_workload(group: GroupSummary) -> dict[str, float | list[float]]:
    """The ``workload:`` of a scenario for one group, in one of the ways the scenario accepts:
    requests x tokens per request when requests are known (the per-request sizes are the
    monthly tokens over the monthly requests, so the product is the monthly volume), input and
    output tokens per month otherwise; plus the load shape (and the weekly profile when the
    logs span a week)."""
    section: dict[str, float | None]
    requests = group.requests_per_month
    if requests:
        section = {
            "requests_per_month": requests,
            "input_tokens_per_request": group.input_tokens_per_month / requests,
            "output_tokens_per_request": group.output_tokens_per_month / requests,
        }
    else:
        section = {
            "input_tokens_per_month": group.input_tokens_per_month,
            "output_tokens_per_month": group.output_tokens_per_month,
        }
    section |= {
        "peak_to_mean": group.peak_to_mean,
        "cached_input_share": group.cached_input_share,
        "batch_share": group.batch_share,
        "prefix_reuse_share": group.prefix_reuse_share,
        "cache_write_share": group.cache_write_input_share,
    }
    written: dict[str, float | list[float]] = {
        k: round(float(v), 6) for k, v in section.items() if v is not None
    }
    if group.weekly_profile is not None:
        written["weekly_profile"] = [round(v, 4) for v in group.weekly_profile]
    return written
