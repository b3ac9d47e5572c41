"""Plain data passed between the engines, the summary and the renderers (pydantic models)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# A cell of the hourly cube: (group, model, UTC hour since the epoch, batch flag).
CubeKey = tuple[str, str, int, bool]


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CubeRow(Frozen):
    """Valid traffic of one (group, model, UTC hour, batch flag): sums over its log rows."""

    group: str
    model: str
    hour: int = Field(description="hours since 1970-01-01T00:00Z")
    batch: bool
    rows: int
    requests: float
    requests_known: bool = Field(description="every row said how many requests it stands for")
    input_tokens: float
    output_tokens: float
    cached_input_tokens: float
    billed_usd: float | None
    billed_rows: int
    bucket_seconds: float = Field(description="widest usage bucket among the rows; 0 per request")
    cache_write_tokens: float = Field(
        default=0.0, description="input tokens the provider reports writing to its cache"
    )
    reused_input_tokens: float = Field(
        default=0.0, description="input tokens in prefixes seen before (see ingest.prefix)"
    )
    reuse_measured_input_tokens: float = Field(
        default=0.0, description="input tokens of the requests whose prompt (or hash) is known"
    )
    reuse_measured_requests: float = 0.0


class RejectCount(Frozen):
    """Rows rejected (or skipped) for one reason, with up to three sample rows."""

    reason: str
    rows: int
    samples: list[str] = Field(default_factory=list)


class ShapeCounts(Frozen):
    """Per-request counts for one group, as a warehouse returns them (no raw rows).

    ``minute_counts`` pairs a number of requests that arrived in one UTC minute with how many
    minutes saw exactly that many (minutes with none are left out); the histograms count
    requests by input and output tokens in the buckets of ``shape.LENGTH_EDGES``.
    """

    minute_counts: list[tuple[int, int]]
    input_histogram: list[int]
    output_histogram: list[int]


class MinuteSeries(Frozen):
    """Requests and tokens in each UTC minute, from ``first_minute`` (minutes since
    1970-01-01T00:00Z) on, one entry per minute, empty minutes included."""

    first_minute: int
    requests: list[int]
    input_tokens: list[float]
    output_tokens: list[float]


class BackendStats(Frozen):
    """What the aggregation cost the backend and the wire."""

    backend: str = Field(description="Ibis backend name, e.g. postgres, pyspark")
    queries: int
    rows_returned: int = Field(description="result rows fetched, all queries together")
    bytes_returned: int = Field(description="size of the fetched results as Arrow buffers")
    seconds: float


class Scan(Frozen):
    """What an engine read: the hourly cube and every row it did not use, by reason."""

    cube: list[CubeRow]
    rejected: list[RejectCount]
    skipped: list[RejectCount]
    formats: list[str]
    shapes: dict[str, ShapeCounts] = Field(default_factory=dict)
    minutes: dict[str, MinuteSeries] = Field(
        default_factory=dict, description="per-minute arrivals per group (file engine)"
    )
    stats: BackendStats | None = None

    @property
    def rows_read(self) -> int:
        used = sum(row.rows for row in self.cube)
        return used + sum(r.rows for r in self.rejected) + sum(r.rows for r in self.skipped)


class MonthTotal(Frozen):
    requests: float | None
    input_tokens: float
    output_tokens: float
    cached_input_tokens: float
    whole: bool = Field(description="the log covers every day of this calendar month")


class ModelUsage(Frozen):
    model: str
    requests: float | None
    input_tokens: float
    output_tokens: float
    cached_input_tokens: float
    catalog_cost_usd: float | None = Field(description="the logged traffic at catalog prices")
    billed_usd: float | None = Field(description="what the log says was billed")
    price_source: str | None = None


class RequestShape(Frozen):
    """Request lengths and per-minute arrivals of one group.

    Token quantiles are read from a histogram with quarter-octave buckets (each about 19%
    wide), interpolating linearly inside a bucket, so they are approximate to within one
    bucket. Per-minute figures count requests over every UTC minute of the log's span, empty
    minutes included; the percentile is numpy's default (linear interpolation).
    """

    requests: int
    input_tokens_p50: float
    input_tokens_p90: float
    input_tokens_p99: float
    output_tokens_p50: float
    output_tokens_p90: float
    output_tokens_p99: float
    mean_requests_per_minute: float
    p99_requests_per_minute: float
    busiest_minute_requests: int
    length_bucket_edges: list[int] = Field(description="lower edge of each token bucket")
    input_histogram: list[int]
    output_histogram: list[int]


class GroupSummary(Frozen):
    """One group's workload as logged and per month (USD, token counts, shares in [0, 1])."""

    requests: float | None
    input_tokens: float
    output_tokens: float
    cached_input_tokens: float
    months: dict[str, MonthTotal]
    input_tokens_per_month: float
    output_tokens_per_month: float
    cached_input_tokens_per_month: float
    requests_per_month: float | None
    monthly_basis: str = Field(description="'median of N whole months' or 'scaled from N days'")
    monthly_growth: float | None = Field(
        description="growth of tokens per day between the first and last whole month, "
        "compounded over 30 days (month lengths do not count)"
    )
    input_share: float | None
    peak_to_mean: float | None = Field(description="p95 hourly tokens over mean hourly tokens")
    hourly_profile: list[float] = Field(description="share of tokens per UTC hour of day, 0..23")
    weekend_to_weekday: float | None = Field(description="mean weekend-day over weekday tokens")
    weekly_profile: list[float] | None = Field(
        default=None,
        description="mean tokens per hour in each of the week's 168 hours (hour 0 = Monday "
        "00:00-01:00 UTC) over the mean hour of the week, so 1 is an average hour; None when "
        "the logs span under a week or are bucketed wider than an hour",
    )
    batch_share: float | None = Field(description="share of tokens sent through batch APIs")
    cached_input_share: float | None
    cache_write_input_share: float | None = Field(
        default=None,
        description="share of input tokens the provider reports writing to its prompt cache "
        "(Anthropic cache creation); None when the log reports none",
    )
    prefix_reuse_share: float | None = Field(
        default=None,
        description="share of input tokens in prefixes seen before within the cache lifetime, "
        "from logged prompts or prompt hashes (ingest.prefix); None without prompts",
    )
    prefix_reuse_requests: int = Field(
        default=0, description="requests whose prompt or prompt hash the reuse measure read"
    )
    models: list[ModelUsage]
    catalog_cost_usd: float | None
    billed_usd: float | None
    shape: RequestShape | None = Field(
        default=None, description="per-request lengths and per-minute arrivals (warehouse)"
    )


class IngestSummary(Frozen):
    """The result of ``llm-tco ingest``; the JSON output is this model."""

    formats: list[str]
    rows_read: int
    rows_used: int
    rows_rejected: dict[str, int]
    rows_skipped: dict[str, int]
    rejected_samples: dict[str, list[str]]
    first_day: str | None
    last_day: str | None
    days: int
    unpriced_models: list[str]
    groups: dict[str, GroupSummary]
    notes: list[str] = Field(default_factory=list)
    backend: BackendStats | None = Field(default=None, description="warehouse query costs")
