"""A one-at-a-time server whose service depends on whether a request found it idle or busy."""

from __future__ import annotations

import numpy as np
import pytest

from llm_tco.bench.metrics import RequestRecord
from llm_tco.bench.predict import (
    ArrivalSegment,
    ArrivalService,
    fcfs_service,
    predict_by_arrival,
)
from llm_tco.bench.result import LevelResult


def record(start: float, first: float, end: float, outputs: int = 3) -> RequestRecord:
    return RequestRecord(
        start_s=start, first_token_s=first, end_s=end, input_tokens=64, output_tokens=outputs
    )


# Sent at 0, 5 and 100 ms; served 0-12, 12-18 and 100-112 ms.
THREE = LevelResult(
    rate=10.0,
    arrival="poisson",
    requests=[
        record(0.0, 0.010, 0.012),
        record(0.005, 0.016, 0.018),
        record(0.100, 0.110, 0.112),
    ],
)


def test_service_is_measured_from_when_the_request_ahead_ended() -> None:
    # Sent at 0 and 5 ms; the first is served 0-12 ms (first token at 10), the second waits
    # until 12 ms and has its first token at 16: prefill 10 and 4 ms, decode (12-10)/2 = 1 ms
    # and (18-16)/2 = 1 ms. The third, sent at 100 ms, finds the server idle: prefill 10 ms.
    prefill, decode, queued = fcfs_service(THREE)
    assert prefill.tolist() == pytest.approx([0.010, 0.004, 0.010])
    assert decode.tolist() == pytest.approx([0.001, 0.001, 0.001])
    assert queued.tolist() == [False, True, False]


def test_requests_are_taken_in_the_order_the_server_served_them() -> None:
    # Sent 0.2 ms apart, served the other way round: the later one's first token comes first
    # (at 10 ms, served 0.2-12 ms), then the earlier one waits until 12 ms (first token at 16).
    level = LevelResult(
        rate=10.0,
        arrival="poisson",
        requests=[record(0.0, 0.016, 0.018), record(0.0002, 0.010, 0.012)],
    )
    prefill, _, queued = fcfs_service(level)
    assert prefill.tolist() == pytest.approx([0.0098, 0.004])
    assert queued.tolist() == [False, True]


def constant(value: float, n: int = 4) -> np.ndarray:
    return np.full(n, value)


def test_each_request_pays_the_service_of_the_class_it_finds_the_server_in() -> None:
    # Idle arrivals: prefill 10 ms, decode 1 ms; queued: prefill 4 ms, decode 1 ms; 3 tokens.
    # Worked by hand: at 0 ms idle -> TTFT 10, ends 12; at 5 ms queued -> starts 12, TTFT
    # 16 - 5 = 11, ends 18; at 100 ms idle -> TTFT 10. So p50 10 ms and p99 10 + 0.98 x 1 =
    # 10.98 ms (numpy's linear percentile of 10, 10, 11). With every request at the idle
    # service (no class) the second would take 12 + 10 - 5 = 17 ms.
    service = ArrivalService(constant(0.010), constant(0.001), constant(0.004), constant(0.001))
    result = predict_by_arrival([ArrivalSegment(service, THREE, 0.012)], service, draws=3)
    assert result.predicted["ttft_p50"] == pytest.approx(10.0)
    assert result.predicted["ttft_p99"] == pytest.approx(10.98)
    assert result.predicted["tpot_mean"] == pytest.approx(1.0)
    assert result.error("ttft_p99") == pytest.approx(0.0, abs=1e-9)


def test_a_class_with_no_request_is_refused_with_the_run_to_make() -> None:
    # Two requests far apart: no request of the concurrency-2 run was queued.
    apart = LevelResult(
        concurrency=2, requests=[record(0.0, 0.010, 0.012), record(0.1, 0.110, 0.112)]
    )
    with pytest.raises(Exception, match="no queued request"):
        ArrivalService.measure([apart], [apart])
