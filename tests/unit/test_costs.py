"""Cost line items with hand-worked numbers."""

import math

import numpy as np
import pytest

from llm_tco.core.costs import (
    ApiOption,
    CostCurve,
    SelfHostedOption,
    api_curve,
    api_line_items,
    replicas_needed,
    self_hosted_curve,
    self_hosted_line_items,
)
from llm_tco.core.workload import Workload


def test_api_items_with_cache_batch_and_retries() -> None:
    # 100M input (40% cached) + 20M output; $3 in, $0.30 cached, $15 out; 25% batch at 50% off;
    # 10% retries. By hand: input 60M x 3 = $180; cached 40M x 0.3 = $12; output 20M x 15 = $300;
    # list $492; batch -492 x 0.25 x 0.5 = -$61.50; retries (492 - 61.5) x 0.1 = $43.05;
    # total $473.55.
    workload = Workload(100e6, 20e6, cached_input_share=0.4, batch_share=0.25)
    option = ApiOption("x", 3.0, 15.0, 0.30, batch_discount=0.5, retry_rate=0.1)
    items = api_line_items(option, workload)
    assert items["input"] == pytest.approx(180)
    assert items["cached_input"] == pytest.approx(12)
    assert items["output"] == pytest.approx(300)
    assert items["batch_discount"] == pytest.approx(-61.5)
    assert items["retries"] == pytest.approx(43.05)
    assert sum(items.values()) == pytest.approx(473.55)
    curve = api_curve(option, workload)
    assert float(curve.cost(120e6)) == pytest.approx(473.55)


def test_self_hosted_fixed_count() -> None:
    # 4 GPUs x $1,500 + $2,000 ops + 12B tokens x $0.10/MTok = $9,200 (seed 1 inputs)
    option = SelfHostedOption(
        name="llama",
        gpu_monthly_usd=1500,
        gpus_per_replica=4,
        replicas=1,
        capacity_tokens_per_second=None,
        hours_per_month=720,
        fixed_items=(("ops", 2000.0),),
        variable_per_mtok=0.10,
    )
    workload = Workload(10e9, 2e9)
    items = self_hosted_line_items(option, workload)
    assert items == pytest.approx({"gpus": 6000, "ops": 2000, "variable": 1200})
    assert float(self_hosted_curve(option, workload).cost(12e9)) == pytest.approx(9200)


def test_self_hosted_auto_replicas_follow_peak() -> None:
    # One replica serves 1,000 tokens/s; a month of 720 h is 2.592M s, so 2.592B tokens/month at
    # peak_to_mean 1; with peak_to_mean 2 one replica carries 1.296B/month. 3B tokens/month
    # -> ceil(3 / 1.296) = 3 replicas, plus 1 spare (N+1) = 4 replicas of 2 GPUs at $2,000.
    option = SelfHostedOption(
        name="auto",
        gpu_monthly_usd=2000,
        gpus_per_replica=2,
        replicas=None,
        capacity_tokens_per_second=1000,
        hours_per_month=720,
        redundancy_replicas=1,
    )
    workload = Workload(2e9, 1e9, peak_to_mean=2.0)
    assert option.tokens_per_replica_month(2.0) == pytest.approx(1.296e9)
    assert replicas_needed(option, workload) == 3
    items = self_hosted_line_items(option, workload)
    assert items["gpus"] == pytest.approx(3 * 2 * 2000)
    assert items["redundancy"] == pytest.approx(2 * 2000)
    curve = self_hosted_curve(option, workload)
    assert float(curve.cost(3e9)) == pytest.approx(16000)
    # exactly at the boundary 2 x 1.296B the count is still 2 (+1 spare)
    assert float(curve.cost(2.592e9)) == pytest.approx(3 * 4000)


def test_cost_curve_steps_vectorised() -> None:
    curve = CostCurve(
        fixed_usd=10, usd_per_token=0.0, step_usd=100, tokens_per_step=1000, min_steps=1
    )
    volumes = np.array([0, 1, 1000, 1001, 2500])
    assert curve.cost(volumes).tolist() == [110, 110, 110, 210, 310]
    assert curve.asymptotic_usd_per_token == pytest.approx(0.1)
    assert not CostCurve(usd_per_token=1).stepped
    assert math.isinf(CostCurve().tokens_per_step)
