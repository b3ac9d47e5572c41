"""Predicting a measured level with the simulator: calibration of the service-time spread."""

from __future__ import annotations

import pytest

from llm_tco.bench.metrics import RequestRecord
from llm_tco.bench.predict import (
    Segment,
    calibrate_steps,
    predict_level,
    predict_segments,
    service_spread,
)
from llm_tco.bench.result import LevelResult


def request(start: float, ttft: float, tpot: float, outputs: int = 11) -> RequestRecord:
    first = start + ttft
    return RequestRecord(
        start_s=start,
        first_token_s=first,
        end_s=first + tpot * (outputs - 1),
        input_tokens=100,
        output_tokens=outputs,
    )


# Concurrency 1, two requests back to back: TTFT 100 and 300 ms (mean 200), TPOT 10 and 30 ms
# (mean 20): scales 0.5 and 1.5 of each.
CALIBRATION = LevelResult(
    concurrency=1,
    requests=[request(0.0, 0.100, 0.010), request(0.2, 0.300, 0.030)],
)


def test_spread_is_each_request_over_the_mean() -> None:
    spread = service_spread(CALIBRATION)
    assert spread.prefill_scale.tolist() == pytest.approx([0.5, 1.5])
    assert spread.decode_scale.tolist() == pytest.approx([0.5, 1.5])


def test_at_concurrency_two_the_ttft_holds_a_wait_so_only_decode_spreads() -> None:
    spread = service_spread(CALIBRATION.model_copy(update={"concurrency": 2}))
    assert spread.prefill_scale.tolist() == [1.0, 1.0]
    assert spread.decode_scale.tolist() == pytest.approx([0.5, 1.5])


def test_prediction_draws_each_request_from_the_measured_pairs() -> None:
    # Steps: prefill 200 ms for 100 tokens, decode 20 ms. One replayed request alone: its TTFT
    # is 200 ms x 0.5 or x 1.5 (100 or 300 ms) and its TPOT 10 or 30 ms, paired, in any draw;
    # with 3 draws the median is one of those pairs, never the 200 / 20 ms of the mean.
    steps = calibrate_steps(CALIBRATION)
    level = LevelResult(rate=1.0, arrival="poisson", requests=[request(0.0, 0.2, 0.02)])
    plain = predict_level(steps, level, 0.4)
    assert plain.predicted["ttft_p99"] == pytest.approx(200.0)
    spread = predict_level(steps, level, 0.4, service_spread(CALIBRATION), draws=3)
    pair = (spread.predicted["ttft_p99"], spread.predicted["tpot_mean"])
    assert pair == pytest.approx((100.0, 10.0)) or pair == pytest.approx((300.0, 30.0))


def test_segments_are_each_predicted_from_their_own_calibration_and_pooled() -> None:
    # Two segments, each one request alone: the first calibrated at TTFT 100 ms / TPOT 10 ms,
    # the second at 300 / 30 ms (a server that slowed down three times between them). Each
    # replayed request gets its own segment's times, so the pooled prediction holds TTFT 100
    # and 300 ms (p50 by linear interpolation: 200 ms, p99: 100 + 0.99 x 200 = 298 ms) and TPOT
    # 10 and 30 ms (mean 20 ms); one calibration for both would give 200 / 20 ms for each.
    fast = calibrate_steps(LevelResult(concurrency=1, requests=[request(0.0, 0.100, 0.010)]))
    slow = calibrate_steps(LevelResult(concurrency=1, requests=[request(0.0, 0.300, 0.030)]))
    one = LevelResult(rate=1.0, arrival="poisson", requests=[request(0.0, 0.2, 0.02)])
    pooled = predict_segments([Segment(fast, one, 0.2), Segment(slow, one, 0.6)])
    assert pooled.requests == 2
    assert pooled.predicted["ttft_p50"] == pytest.approx(200.0)
    assert pooled.predicted["ttft_p99"] == pytest.approx(298.0)
    assert pooled.predicted["tpot_mean"] == pytest.approx(20.0)
    assert pooled.measured["ttft_p99"] == pytest.approx(200.0)
    assert pooled.rate == pytest.approx(1.0)
