"""Why a log row is not used: the one list of reject reasons, and the limits they test.

The file engine (``engine.py``, DuckDB SQL) and the warehouse path (``warehouse.py``, Ibis)
test the same conditions in the same order, so that a row is rejected for the same reason
whichever reads it; the first that holds names the row. ``outlier_timestamp`` is decided
after aggregation (``engine.to_scan``, shared by both) and ``duplicate_request_id`` once the
copies of an id are known.
"""

from __future__ import annotations

# A single request of more than 100M input or output tokens is a logging bug: no model's
# context window comes near it (the largest offered are around 10M tokens).
MAX_TOKENS_PER_REQUEST = 100_000_000
# A row that does not say how many requests it stands for (Anthropic's usage report has no
# request count) is held to this instead: ~10 trillion is about a week of the busiest public
# API's traffic (see scenario.MAX_QUANTITY), never one usage bucket.
MAX_TOKENS_PER_ROW = 1e13
# Timestamps outside 2000-01-01 .. 2100-01-01 (Unix seconds) are taken as unparseable: an
# epoch of 0 or a year-1 date is a logging bug, not a request.
EARLIEST_S, LATEST_S = 946_684_800, 4_102_444_800
# A timestamp more than a day after the scan (clock skew is hours, not days) is from no request
# yet made, and is rejected rather than stretching the log's window.
FUTURE_SLACK_S = 86_400

# reason -> what it means, in the order the row checks are made.
REJECT_REASONS: dict[str, str] = {
    "malformed_line": "a line that could not be split into fields or parsed as JSON",
    "missing_tokens": "no input or no output token count",
    "non_numeric_tokens": "a token or request count that is not a number",
    "non_finite_tokens": "a token or request count that is infinite or NaN",
    "negative_tokens": "a negative token or request count",
    "too_many_tokens": f"more than {MAX_TOKENS_PER_REQUEST:,} input or output tokens per "
    f"request (per row of unknown request count: {MAX_TOKENS_PER_ROW:g})",
    "cached_exceeds_input": "more cached input tokens than input tokens",
    "missing_timestamp": "no timestamp",
    "bad_timestamp": "a timestamp that is unparseable or outside 2000-01-01 .. 2100-01-01",
    "future_timestamp": "a timestamp more than a day after the log was read",
    "outlier_timestamp": "a small cluster of rows a year or more away from the rest",
    "duplicate_request_id": "a later copy of a request id already counted",
}
# The checks made on each row before aggregation (both engines), in order; the file engine
# also tests `malformed_line` first (the warehouse has no lines).
ROW_CHECKS: tuple[str, ...] = (
    "missing_tokens",
    "non_numeric_tokens",
    "non_finite_tokens",
    "negative_tokens",
    "too_many_tokens",
    "cached_exceeds_input",
    "missing_timestamp",
    "bad_timestamp",
    "future_timestamp",
)
DUPLICATE = "duplicate_request_id"
OUTLIER = "outlier_timestamp"
