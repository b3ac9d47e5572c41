"""Per-request raw timings and the metrics derived from them.

A :class:`RequestRecord` keeps only what was observed: when the request started, when each content
chunk arrived, when it ended, the token counts and where they came from, and how it failed.
Everything else (TTFT, time per output token, inter-token latencies) is computed from those, so a
saved result can be re-analysed without re-running the benchmark.

Times are seconds on a monotonic clock relative to the start of the run; derived latencies are
milliseconds, as the names say.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

ErrorKind = Literal[
    "http_4xx",  # the server refused the request (bad model name, context too long ...)
    "rate_limited",  # HTTP 429
    "http_5xx",  # the server failed
    "timeout",  # no byte within the read timeout, or the whole request ran past its limit
    "connect",  # the connection could not be opened
    "reset",  # the connection dropped before any content arrived
    "truncated",  # content arrived, then the stream ended without its closing event
    "protocol",  # the reply was not the OpenAI streaming format
    "redirect",  # the endpoint answered with a redirect, which is never followed
    "cancelled",  # stopped by Ctrl-C or by the level's time limit
    "other",  # an imported failure whose kind the other tool did not say
]
# usage: the server's count; chunks: counted from the stream; estimate: from the prompt we made;
# reported: counted by the tool a result was imported from.
TokenSource = Literal["usage", "chunks", "estimate", "reported"]


class RequestRecord(BaseModel):
    """What was observed for one request. Times in seconds from the start of the run."""

    model_config = ConfigDict(extra="forbid")

    start_s: float
    first_token_s: float | None = None
    end_s: float
    chunk_times_s: list[float] = Field(
        default_factory=list, description="arrival time of each chunk that carried content"
    )
    input_tokens: int | None = Field(default=None, ge=0)
    input_tokens_source: TokenSource = "estimate"
    output_tokens: int = Field(default=0, ge=0)
    output_tokens_source: TokenSource = "chunks"
    status_code: int | None = None
    error_kind: ErrorKind | None = None
    error_detail: str | None = None
    attempts: int = Field(default=1, ge=1, description="1 + the retries this request needed")

    @property
    def ok(self) -> bool:
        return self.error_kind is None

    @property
    def ttft_ms(self) -> float | None:
        """Time to first token: request sent -> first content chunk."""
        if self.first_token_s is None:
            return None
        return (self.first_token_s - self.start_s) * 1000.0

    @property
    def e2e_ms(self) -> float:
        """End-to-end latency: request sent -> last byte."""
        return (self.end_s - self.start_s) * 1000.0

    @property
    def tpot_ms(self) -> float | None:
        """Time per output token after the first: (end - first token) / (output tokens - 1).

        The same definition as `vllm bench serve` and GuideLLM, so figures compare directly.
        """
        if self.first_token_s is None or self.output_tokens < 2:
            return None
        return (self.end_s - self.first_token_s) * 1000.0 / (self.output_tokens - 1)

    @property
    def itl_ms(self) -> list[float]:
        """Gaps between consecutive content chunks (one chunk is usually one token)."""
        times = self.chunk_times_s
        return [(b - a) * 1000.0 for a, b in itertools.pairwise(times)]


class Percentiles(BaseModel):
    """Distribution of one latency over the successful requests of a level, in milliseconds."""

    model_config = ConfigDict(extra="ignore")

    mean: float
    p50: float
    p90: float
    p99: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Percentiles | None:
        if len(values) == 0:
            return None
        array = np.asarray(values, dtype=float)
        p50, p90, p99 = np.percentile(array, [50, 90, 99])
        return cls(mean=float(array.mean()), p50=float(p50), p90=float(p90), p99=float(p99))


class LevelSummary(BaseModel):
    """The figures reported for one load level (what a table row or a chart point shows)."""

    model_config = ConfigDict(extra="ignore")

    requests_completed: int = 0
    requests_failed: int = 0
    errors: dict[str, int] = Field(default_factory=dict, description="failed requests by kind")
    duration_s: float = 0.0
    requests_per_second: float = 0.0
    input_tokens_per_second: float = 0.0
    output_tokens_per_second: float = 0.0
    error_rate: float = 0.0
    retry_rate: float = 0.0
    ttft_ms: Percentiles | None = None
    tpot_ms: Percentiles | None = None
    itl_ms: Percentiles | None = None
    e2e_ms: Percentiles | None = None
    output_tokens_source: str | None = None

    @property
    def total_tokens_per_second(self) -> float:
        return self.input_tokens_per_second + self.output_tokens_per_second


def duration_of(records: Iterable[RequestRecord]) -> float:
    """Wall time from the first request sent to the last one finished, seconds."""
    records = list(records)
    if not records:
        return 0.0
    return max(r.end_s for r in records) - min(r.start_s for r in records)


def summarise(records: Sequence[RequestRecord]) -> LevelSummary:
    """Throughput over the level's wall time; latency percentiles over successful requests."""
    done = [r for r in records if r.ok]
    failed = [r for r in records if not r.ok]
    duration_s = duration_of(records)
    per_s = 1.0 / duration_s if duration_s > 0 else 0.0
    sources = sorted({r.output_tokens_source for r in done})
    return LevelSummary(
        requests_completed=len(done),
        requests_failed=len(failed),
        errors=dict(Counter(str(r.error_kind) for r in failed)),
        duration_s=duration_s,
        requests_per_second=len(done) * per_s,
        input_tokens_per_second=sum(r.input_tokens or 0 for r in done) * per_s,
        output_tokens_per_second=sum(r.output_tokens for r in done) * per_s,
        error_rate=len(failed) / len(records) if records else 0.0,
        retry_rate=sum(1 for r in records if r.attempts > 1) / len(records) if records else 0.0,
        ttft_ms=Percentiles.of([t for r in done if (t := r.ttft_ms) is not None]),
        tpot_ms=Percentiles.of([t for r in done if (t := r.tpot_ms) is not None]),
        itl_ms=Percentiles.of([gap for r in done for gap in r.itl_ms]),
        e2e_ms=Percentiles.of([r.e2e_ms for r in done]),
        output_tokens_source="+".join(sources) if sources else None,
    )


def slo_attainment(
    records: Sequence[RequestRecord], ttft_ms: float | None, tpot_ms: float | None
) -> float:
    """Share of all requests (failed ones count as misses) meeting both latency targets."""
    if not records:
        return 0.0
    met = 0
    for record in records:
        if not record.ok:
            continue
        ttft, tpot = record.ttft_ms, record.tpot_ms
        if ttft_ms is not None and (ttft is None or ttft > ttft_ms):
            continue
        if tpot_ms is not None and tpot is not None and tpot > tpot_ms:
            continue
        met += 1
    return met / len(records)
