"""Request lengths and per-minute arrivals from the small counts a warehouse returns.

The warehouse counts requests per token bucket and per arrival minute; this module turns those
counts into quantiles. Pure arithmetic, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from llm_tco.ingest.model import RequestShape, ShapeCounts

# Quarter-octave bucket edges (2^(k/4), rounded, duplicates dropped) from 0 to 2^24 tokens:
# 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 13, 16, 19, 23, 27, 32, ... Integer edges keep the bucket
# of an integer token count exact on every engine (a CASE of comparisons, no logarithms).
LENGTH_EDGES: tuple[int, ...] = (0, *sorted({round(2 ** (k / 4)) for k in range(4 * 24 + 1)}))
MINUTE_S = 60


def histogram_quantile(counts: Sequence[int], q: float) -> float:
    """The ``q`` quantile (0..1) of values counted per bucket of ``LENGTH_EDGES``.

    Inside the bucket where the cumulative count reaches ``q * total`` the value is
    interpolated linearly between the bucket's lower and upper edge (the last bucket, open
    above, reports its lower edge).
    """
    total = sum(counts)
    if total <= 0:
        return 0.0
    target = q * total
    seen = 0.0
    for index, count in enumerate(counts):
        if count and seen + count >= target:
            low = LENGTH_EDGES[index]
            if index + 1 >= len(LENGTH_EDGES):
                return float(low)
            high = LENGTH_EDGES[index + 1]
            return float(low + (high - low) * (target - seen) / count)
        seen += count
    return float(LENGTH_EDGES[-1])


def request_shape(counts: ShapeCounts, span_minutes: int) -> RequestShape:
    """Quantiles for one group; ``span_minutes`` is every minute of the log's span."""
    per_minute = [(int(n), int(m)) for n, m in counts.minute_counts if n > 0 and m > 0]
    busy_minutes = sum(m for _, m in per_minute)
    empty = max(0, span_minutes - busy_minutes)
    values = np.repeat(
        np.array([0] + [n for n, _ in per_minute], dtype=float),
        np.array([empty] + [m for _, m in per_minute], dtype=np.int64),
    )
    requests = sum(n * m for n, m in per_minute)
    return RequestShape(
        requests=requests,
        input_tokens_p50=histogram_quantile(counts.input_histogram, 0.50),
        input_tokens_p90=histogram_quantile(counts.input_histogram, 0.90),
        input_tokens_p99=histogram_quantile(counts.input_histogram, 0.99),
        output_tokens_p50=histogram_quantile(counts.output_histogram, 0.50),
        output_tokens_p90=histogram_quantile(counts.output_histogram, 0.90),
        output_tokens_p99=histogram_quantile(counts.output_histogram, 0.99),
        mean_requests_per_minute=float(values.mean()) if values.size else 0.0,
        p99_requests_per_minute=float(np.percentile(values, 99)) if values.size else 0.0,
        busiest_minute_requests=max((n for n, _ in per_minute), default=0),
        length_bucket_edges=list(LENGTH_EDGES),
        input_histogram=list(counts.input_histogram),
        output_histogram=list(counts.output_histogram),
    )
