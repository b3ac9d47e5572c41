"""Hand-worked intervals and cost per accepted output for the quality pilot."""

from __future__ import annotations

import math

import pytest

from llm_tco.quality.endpoints import Endpoint
from llm_tco.quality.prompts import Message, PromptItem
from llm_tco.quality.stats import Z_95, mean_interval, newcombe_difference, wilson
from llm_tco.quality.store import RequestRow
from llm_tco.quality.summary import summarise_endpoint


def test_wilson_by_hand_8_of_10() -> None:
    # p = 0.8, n = 10, z = 1.96 (z^2 = 3.8415):
    #   denominator = 1 + z^2/n = 1.38415
    #   centre = (p + z^2/(2n)) / denominator = (0.8 + 0.19207) / 1.38415 = 0.71673
    #   half = z * sqrt(p(1-p)/n + z^2/(4n^2)) / denominator
    #        = 1.96 * sqrt(0.016 + 0.0096037) / 1.38415 = 1.96 * 0.16001 / 1.38415 = 0.22658
    #   interval = 0.71673 -/+ 0.22658 = (0.4902, 0.9433)
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)


def test_wilson_matches_newcombes_published_example() -> None:
    # Newcombe (1998), "Two-sided confidence intervals for the single proportion", example
    # 81/263: Wilson score interval 0.2553 to 0.3662.
    low, high = wilson(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_wilson_at_the_edges_stays_inside_zero_one() -> None:
    # 0 of 10: low is exactly 0 and high = z^2/(n + z^2) = 3.8415/13.8415 = 0.2775.
    low, high = wilson(0, 10)
    assert low == 0.0 and high == pytest.approx(Z_95**2 / (10 + Z_95**2))
    low, high = wilson(10, 10)
    assert high == 1.0 and low == pytest.approx(10 / (10 + Z_95**2))
    assert wilson(0, 0) == (0.0, 1.0)


def test_newcombe_difference_matches_the_published_example() -> None:
    # Newcombe (1998), "Interval estimation for the difference between independent
    # proportions", Statistics in Medicine 17: 56/70 vs 48/80, method 10: 0.0524 to 0.3339.
    difference, low, high = newcombe_difference(56, 70, 48, 80)
    assert difference == pytest.approx(0.2)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


def test_mean_interval_by_hand() -> None:
    # values 0, 1, 1, 0: mean 0.5, sample variance (4 * 0.25)/3 = 1/3,
    # half width 1.96 * sqrt((1/3)/4) = 1.96 * 0.28868 = 0.56580.
    mean, low, high = mean_interval([0, 1, 1, 0])
    assert mean == 0.5
    assert low == pytest.approx(0.5 - 0.5658, abs=1e-4) and high == pytest.approx(1.0658, abs=1e-4)


def _item(word: str) -> PromptItem:
    return PromptItem(messages=(Message(role="user", content=word),), task="t")


def _row(item: PromptItem, attempt: int, accepted: bool | None, **kw: object) -> RequestRow:
    tokens = {"input_tokens": 1000, "output_tokens": 200} if accepted is not None else {}
    data = {
        "role": "answer",
        "endpoint": "api",
        "prompt_id": item.id,
        "task": item.task,
        "attempt": attempt,
        "status_code": 200,
        "latency_ms": 100.0 * attempt,
        "accepted": accepted,
        "cost_usd": (1000 * 3 + 200 * 15) / 1e6 if accepted is not None else 0.0,
        **tokens,
        **kw,
    }
    return RequestRow.model_validate(data)


def test_cost_per_accepted_output_by_hand() -> None:
    # Price $3/MTok in, $15/MTok out; each answer is 1,000 tokens in and 200 out, so costs
    # 1000*3/1e6 + 200*15/1e6 = $0.003 + $0.003 = $0.006.
    #   p1: accepted at once                      1 answer
    #   p2: failed, then accepted on the re-ask    2 answers
    #   p3: failed twice (out of attempts)         2 answers
    #   p4: a 429 waited out (no tokens), accepted 1 answer
    # 6 answers cost 6 * $0.006 = $0.036 for 3 accepted: $0.012 per accepted output.
    # Attempts 6 / accepted 3 = 2.0; retry rate mean(0, 1, 1, 0) = 0.5; acceptance 3/4 with
    # Wilson (z = 1.96): centre (0.75 + 0.48019)/1.96037 = 0.62753, half 0.32689
    # -> (0.3006, 0.9544).
    p1, p2, p3, p4 = (_item(w) for w in ("one", "two", "three", "four"))
    rows = [
        _row(p1, 1, True),
        _row(p2, 1, False),
        _row(p2, 2, True),
        _row(p3, 1, False),
        _row(p3, 2, False),
        _row(p4, 1, None, status_code=429, error_kind="rate_limited", waited_s=0.0),
        _row(p4, 1, True, waited_s=2.0),
    ]
    endpoint = Endpoint(name="api", url="http://x", model="m", input_per_mtok=3, output_per_mtok=15)
    summary = summarise_endpoint(endpoint, [p1, p2, p3, p4], rows, max_attempts=2)
    assert summary.cost_usd == pytest.approx(0.036)
    assert summary.cost_per_accepted_usd == pytest.approx(0.012)
    assert summary.input_tokens == 6000 and summary.output_tokens == 1200
    assert summary.attempts == 6 and summary.attempts_per_accepted == pytest.approx(2.0)
    assert summary.retry_rate == pytest.approx(0.5)
    assert (summary.retry_rate_low, summary.retry_rate_high) == (0.0, 1.0)  # clamped to [0, 1]
    a = summary.acceptance
    assert (a.accepted, a.graded, a.rate) == (3, 4, 0.75)
    assert a.low == pytest.approx(0.3006, abs=1e-4) and a.high == pytest.approx(0.9544, abs=1e-4)
    assert summary.rate_limited == 1 and summary.waited_s == pytest.approx(2.0)
    # Latency over the 6 answers that came: 100, 100, 200, 100, 200, 100 ms -> median 100.
    assert summary.latency_ms is not None and summary.latency_ms.p50 == pytest.approx(100.0)


def test_unpriced_endpoint_has_no_cost_and_unfinished_prompts_are_pending() -> None:
    p1, p2 = _item("a"), _item("b")
    endpoint = Endpoint(name="api", url="http://x", model="m")
    summary = summarise_endpoint(endpoint, [p1, p2], [_row(p1, 1, False)], max_attempts=3)
    assert summary.cost_usd is None and summary.cost_per_accepted_usd is None
    assert summary.prompts_finished == 0 and summary.prompts_pending == 2
    assert summary.acceptance.rate is None and not math.isnan(summary.acceptance.low)
