"""Idle-cost choices, worked by hand."""

from __future__ import annotations

import pytest

from llm_tco.core import elasticity as el

# 12 idle hours and 12 busy hours; mean 500 tokens/s, so busy hours run at 1,000 tokens/s.
PROFILE = [0.0] * 12 + [1.0] * 12
FLEET = el.Fleet(
    replica_hourly_usd=2.0,
    capacity_tokens_per_second=1000.0,
    mean_tokens_per_second=500.0,
    hours_per_month=720.0,
    current_replicas=2,
)


def test_always_on() -> None:
    assert el.always_on(FLEET).monthly_usd == 2 * 2.0 * 720  # $2,880


def test_autoscaled_keeps_the_minimum_replica() -> None:
    # one replica every hour (busy: ceil(1000/1000) = 1; idle: min_replicas 1): 24 x $2 x 30 d
    assert el.autoscaled(FLEET, PROFILE).monthly_usd == pytest.approx(24 * 2.0 * 30)


def test_scale_to_zero_pays_cold_starts() -> None:
    # 12 replica-hours a day ($720/month) + one 10-minute cold start a day (30 x 10/60 x $2)
    choice = el.autoscaled(FLEET, PROFILE, scale_to_zero=True, cold_start_minutes=10)
    assert choice.monthly_usd == pytest.approx(720 + 10)


def test_max_replicas_leaves_load_unserved() -> None:
    capped = el.Fleet(2.0, 400.0, 500.0, 720.0, 3, max_replicas=2)
    assert "unserved" in el.autoscaled(capped, PROFILE).how


def test_owned_amortised_over_36_months() -> None:
    # 2 replicas x 1 GPU x ($30,000 / 36 + $50 power) = $1,766.67
    assert el.owned(FLEET, 1, 30_000, 36, 50).monthly_usd == pytest.approx(2 * (30_000 / 36 + 50))
