"""Sizing from a trace on a synthetic day whose shape is known, against hand-worked figures.

The day: hourly profile 1 for hours 0-7, 4 for 8-17, 2 for 18-23; its mean is
(8 x 1 + 10 x 4 + 6 x 2) / 24 = 2.5. The workload is 2,500 tokens/s on average
(6.48B tokens a 720-hour month), so the hours run at 1,000, 4,000 and 2,000 tokens/s. One
replica (2 GPUs) serves 1,500 tokens/s at the SLO: ceil(1000/1500) = 1, ceil(4000/1500) = 3,
ceil(2000/1500) = 2 replicas, i.e. 2, 6 and 4 GPUs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from llm_tco.core.trace import MinuteLoad
from llm_tco.scenario import Scenario
from llm_tco.trace_sizing import size_trace

PROFILE = [1.0] * 8 + [4.0] * 10 + [2.0] * 6


def scenario(**scaling: Any) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "synthetic day",
            "workload": {
                "tokens_per_month": 6.48e9,
                "input_share": 0.8,
                "hourly_profile": PROFILE,
            },
            "options": [
                {
                    "name": "api",
                    "api": {"input_per_mtok": 1.0, "output_per_mtok": 5.0},
                },
                {
                    "name": "own",
                    "self_hosted": {
                        "gpu": "a100-80gb",
                        "gpu_count": "auto",
                        "gpus_per_replica": 2,
                        "gpu_hourly_price": 2.0,
                        "tokens_per_second_per_replica": 1500,
                    },
                    "scaling": {"reserved_discount": 0.5, **scaling},
                },
            ],
        }
    )


def test_minute_by_minute_gpu_counts() -> None:
    result = size_trace(scenario())
    expected = [2] * 480 + [6] * 600 + [4] * 360  # minutes 0-479, 480-1079, 1080-1439
    assert result.minutes == 1440
    assert result.gpus_needed_per_minute == expected
    assert (result.gpus_needed.minimum, result.gpus_needed.maximum) == (2, 6)


def test_cheapest_mix_by_hand() -> None:
    """Per replica slot and day (a replica is 2 GPUs: $4/h on demand, $2/h committed at 50%
    off; the API costs 0.8 x $1 + 0.2 x $5 = $1.80/MTok of this mix):

    - slot 0, needed 24 h: committed 24 x 2 = $48; on demand $96; API: 1000 tok/s x 8 h +
      4000/3 x 10 h + 2000/2 x 6 h = 98.4M tokens = $177.12. Committed.
    - slot 1, needed 16 h: committed $48; on demand 16 x 4 = $64; API 69.6M = $125.28.
      Committed.
    - slot 2, needed 10 h: committed $48; on demand 10 x 4 = $40; API 48M = $86.40. On demand.

    $136 a day, x 30 days = $4,080 a month; always-on for the peak: 3 x $48 x 30 = $4,320;
    all API: 6.48B x $1.80/MTok = $11,664.
    """
    result = size_trace(scenario())
    tiers = {t.tier: t for t in result.mix}
    assert (tiers["always-on"].replicas, tiers["on-demand"].replicas) == (2, 1)
    assert tiers["always-on"].monthly_usd == pytest.approx(2 * 48 * 30)
    assert tiers["on-demand"].monthly_usd == pytest.approx(40 * 30)
    assert tiers["api-overflow"].monthly_usd == pytest.approx(0.0, abs=1e-6)
    assert result.monthly_usd == pytest.approx(4080.0)
    assert result.always_on_at_peak_monthly_usd == pytest.approx(4320.0)
    assert result.all_api_monthly_usd == pytest.approx(11664.0)
    assert result.overflow_option == "api"


def test_scale_up_delay_sends_the_first_minutes_to_the_api() -> None:
    """10 minutes from request to serving: slot 2 is billed its 10 h and serves from 08:10,
    so 10 minutes of its 4000/3 tokens/s (800K tokens, $1.44) go to the API: $41.44 a day,
    still under committed ($48). $137.44 a day, $4,123.20 a month."""
    result = size_trace(scenario(scale_up_minutes=6, cold_start_minutes=4))
    tiers = {t.tier: t for t in result.mix}
    assert result.delay_minutes == 10
    assert tiers["on-demand"].replicas == 1
    assert tiers["api-overflow"].tokens_per_month == pytest.approx(800_000 * 30)
    assert tiers["api-overflow"].monthly_usd == pytest.approx(1.44 * 30)
    assert result.monthly_usd == pytest.approx(4123.2)


def test_without_overflow_the_peak_is_pre_provisioned() -> None:
    """No API and a 10-minute delay: an autoscaled slot leaves demand unserved, so every slot
    is committed: 3 x $48 x 30 = $4,320."""
    result = size_trace(scenario(scale_up_minutes=10), overflow=None)
    tiers = {t.tier: t for t in result.mix}
    assert tiers["always-on"].replicas == 3
    assert result.monthly_usd == pytest.approx(4320.0)


def test_a_trace_from_logs_is_sized_minute_by_minute() -> None:
    """Three minutes of 0, 90,000 and 200,000 tokens (0, 1,500 and 3,333 tokens/s): 0, 1 and 3
    replicas, i.e. 0, 2 and 6 GPUs."""
    tokens = np.array([0.0, 90_000.0, 200_000.0])
    load = MinuteLoad(tokens / 1000, tokens * 0.8, tokens * 0.2)
    result = size_trace(scenario(), load, source="test")
    assert result.gpus_needed_per_minute == [0, 2, 6]


def test_a_pluggable_sizer_replaces_the_mean_latency_one() -> None:
    def two_per_minute(load: MinuteLoad) -> np.ndarray:
        return np.full(load.tokens.shape, 2, dtype=np.int64)

    result = size_trace(scenario(), sizer=two_per_minute, sizing="two replicas, always")
    assert set(result.gpus_needed_per_minute) == {4}
    assert result.sizing == "two replicas, always"


def week_scenario() -> Scenario:
    """A typical week: Monday to Friday the day above, Saturday and Sunday half of it. The
    week's profile mean is (5 x 60 + 2 x 30) / 168 = 360 / 168 (a day of PROFILE sums to 60),
    so a month of 6.48B x 6/7 tokens (2,142.86 tokens/s on average) runs the weekday hours at
    2142.86 x 168 / 360 = 1,000, 4,000 and 2,000 tokens/s as before, and the weekend hours at
    500, 2,000 and 1,000: ceil(500/1500) = 1, ceil(2000/1500) = 2, ceil(1000/1500) = 1
    replicas, i.e. 2, 4 and 2 GPUs."""
    data = scenario().model_dump(mode="json", exclude_unset=True)
    data["workload"].pop("hourly_profile")
    data["workload"]["tokens_per_month"] = 6.48e9 * 6 / 7
    data["workload"]["weekly_profile"] = PROFILE * 5 + [v / 2 for v in PROFILE] * 2
    return Scenario.model_validate(data)


def test_a_weekly_profile_is_sized_minute_by_minute_over_the_week() -> None:
    result = size_trace(week_scenario())
    weekday = [2] * 480 + [6] * 600 + [4] * 360
    weekend = [2] * 480 + [4] * 600 + [2] * 360
    assert result.minutes == 7 * 1440
    assert result.gpus_needed_per_minute == weekday * 5 + weekend * 2
    assert "weekly_profile" in result.source


def test_weekly_mix_by_hand() -> None:
    """Per replica slot and week (2 GPUs: $4/h on demand, $2/h committed; API $1.80/MTok):

    - slot 0, needed all 168 h: committed $336, on demand $672. Committed.
    - slot 1, needed 16 h a weekday and 10 h a weekend day, 100 h: committed $336, on demand
      $400; API: weekdays 5 x 69.6M + weekends 2 x (1000 tok/s x 10 h = 36M) = 420M tokens,
      $756. Committed.
    - slot 2, needed 10 h a weekday only, 50 h: on demand $200, committed $336, API 5 x 48M =
      240M tokens, $432. On demand.

    $872 a week; the month is 720 h = 30/7 weeks: $3,737.14. Always-on for the peak:
    3 x $336 x 30/7 = $4,320."""
    result = size_trace(week_scenario())
    tiers = {t.tier: t for t in result.mix}
    assert (tiers["always-on"].replicas, tiers["on-demand"].replicas) == (2, 1)
    assert tiers["on-demand"].monthly_usd == pytest.approx(200 * 30 / 7)
    assert result.monthly_usd == pytest.approx(872 * 30 / 7)
    assert result.always_on_at_peak_monthly_usd == pytest.approx(4320.0)


def test_weekly_profile_needs_168_hours() -> None:
    data = scenario().model_dump(mode="json", exclude_unset=True)
    data["workload"]["weekly_profile"] = [1.0] * 24
    with pytest.raises(ValueError, match="weekly_profile needs 168 values"):
        Scenario.model_validate(data)
