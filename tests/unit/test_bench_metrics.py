"""Per-request raw timings -> TTFT, TPOT, ITL; level summaries; SLO attainment."""

from __future__ import annotations

import pytest

from llm_tco.bench.metrics import Percentiles, RequestRecord, slo_attainment, summarise


def record(start: float, first: float, end: float, out: int, **kw: object) -> RequestRecord:
    return RequestRecord(start_s=start, first_token_s=first, end_s=end, output_tokens=out, **kw)


def test_derived_latencies() -> None:
    # Sent at 1.0 s, first token at 1.2 s, done at 2.2 s with 11 tokens:
    # TTFT 200 ms; TPOT = (2.2 - 1.2) s / (11 - 1) = 100 ms; e2e 1,200 ms.
    r = record(1.0, 1.2, 2.2, 11, chunk_times_s=[1.2, 1.3, 1.45])
    assert r.ttft_ms == pytest.approx(200.0)
    assert r.tpot_ms == pytest.approx(100.0)
    assert r.e2e_ms == pytest.approx(1200.0)
    assert r.itl_ms == pytest.approx([100.0, 150.0])


def test_single_token_has_no_tpot() -> None:
    assert record(0.0, 0.1, 0.1, 1).tpot_ms is None


def test_percentiles_by_hand() -> None:
    # numpy's linear interpolation on 1..100: p50 = 50.5, p90 = 90.1, p99 = 99.01.
    p = Percentiles.of([float(v) for v in range(1, 101)])
    assert p is not None
    assert (p.p50, p.p90, p.p99, p.mean) == pytest.approx((50.5, 90.1, 99.01, 50.5))
    assert Percentiles.of([]) is None


def test_summary_counts_failures_by_kind_and_uses_wall_time() -> None:
    records = [
        record(0.0, 0.5, 2.0, 100, input_tokens=50),
        record(1.0, 1.5, 4.0, 200, input_tokens=50),
        RequestRecord(start_s=2.0, end_s=2.5, error_kind="http_5xx", status_code=503),
        RequestRecord(start_s=2.0, end_s=3.0, error_kind="truncated", attempts=2),
    ]
    s = summarise(records)
    # Wall time 0.0 -> 4.0 s; 300 output tokens of successful requests -> 75 tok/s.
    assert s.duration_s == pytest.approx(4.0)
    assert s.output_tokens_per_second == pytest.approx(75.0)
    assert s.input_tokens_per_second == pytest.approx(25.0)
    assert s.requests_per_second == pytest.approx(0.5)
    assert s.errors == {"http_5xx": 1, "truncated": 1}
    assert s.error_rate == pytest.approx(0.5)
    assert s.retry_rate == pytest.approx(0.25)


def test_slo_attainment_counts_failures_as_misses() -> None:
    records = [
        record(0.0, 0.1, 1.1, 11),  # TTFT 100 ms, TPOT 100 ms
        record(0.0, 0.3, 1.3, 11),  # TTFT 300 ms
        record(0.0, 0.1, 2.1, 11),  # TPOT 200 ms
        RequestRecord(start_s=0.0, end_s=0.1, error_kind="reset"),
    ]
    assert slo_attainment(records, ttft_ms=200, tpot_ms=150) == pytest.approx(0.25)
    assert slo_attainment(records, ttft_ms=None, tpot_ms=150) == pytest.approx(0.5)
    assert slo_attainment(records, ttft_ms=None, tpot_ms=None) == pytest.approx(0.75)
