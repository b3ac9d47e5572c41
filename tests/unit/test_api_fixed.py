"""Monthly items on API and hybrid options: line items, cost, break-even and samples.

Every figure below is worked by hand from the scenario's own numbers.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from llm_tco.errors import ScenarioError
from llm_tco.scenario import scenario_from_data
from llm_tco.simulate import sample_costs
from support import run

# 1B input + 1B output tokens a month at $1/$5 per MTok: $1,000 + $5,000 = $6,000, i.e. an
# average $3 per MTok ($3e-6 a token).
WORKLOAD = {"input_tokens_per_month": "1B", "output_tokens_per_month": "1B"}
# One GPU at $20,000/month + $1,000 ops = $21,000 fixed; 10,000 tokens/s x 720 h x 3,600 s =
# 25.92B tokens/month of capacity (beyond every volume below).
OWN = {
    "name": "own",
    "self_hosted": {
        "gpu": "h100-sxm-80gb",
        "gpu_count": 1,
        "gpu_monthly_price": 20000,
        "tokens_per_second_per_replica": 10000,
        "ops_monthly": 1000,
    },
}
# resilience 1,500 + support plan 500 + 10 h x $150/h engineering = $3,500 a month.
ITEMS: dict[str, Any] = {
    "fixed_monthly": {"resilience": 1500, "support_plan": 500},
    "engineering_hours_per_month": 10,
    "engineer_hourly_rate": 150,
}


def scenario(api_extra: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    api = {"input_per_mtok": 1, "output_per_mtok": 5, **(api_extra or {})}
    return {
        "workload": WORKLOAD,
        "options": [{"name": "api", "api": api}, copy.deepcopy(OWN)],
        "sweep": [1e8, 1e9, 5e9, 1e10],
        **extra,
    }


def test_items_are_line_items_and_shift_cost_and_breakeven_by_their_sum() -> None:
    bare = run(scenario())
    given = run(scenario(ITEMS))
    api = given.option("api")
    assert api.breakdown["resilience"] == pytest.approx(1500)
    assert api.breakdown["support_plan"] == pytest.approx(500)
    assert api.breakdown["engineering"] == pytest.approx(1500)
    lines = {line.name: line for line in api.line_items}
    assert lines["resilience"].formula == "per month as given"
    assert lines["engineering"].formula == "10 h/month x $150/h"
    assert api.monthly_cost == pytest.approx(6000 + 3500)
    assert bare.option("api").monthly_cost == pytest.approx(6000)
    # Break-even: 21,000 = 3e-6 V (+ 3,500): V = 7B without the items, 17,500 / 3e-6 =
    # 5.8333B with them.
    (before,) = bare.breakeven
    (after,) = given.breakeven
    assert before.tokens_per_month == pytest.approx(7e9)
    assert after.tokens_per_month == pytest.approx(17500 / 3e-6)
    # Every sweep volume: the API costs exactly $3,500 more; the self-hosted option the same.
    for old, new in zip(bare.sweep, given.sweep, strict=True):
        assert new.costs["api"] - old.costs["api"] == pytest.approx(3500)
        assert new.costs["own"] == pytest.approx(old.costs["own"])


def test_no_items_invented_for_an_api() -> None:
    result = run(scenario())
    assert set(result.option("api").breakdown) == {"input", "output"}
    assert not [w for w in result.warnings if w.code == "ops_defaults_assumed"]


def test_a_range_on_an_item_is_sampled_through_the_same_formula() -> None:
    data = scenario({"fixed_monthly": {"resilience": {"low": 1000, "high": 2000}}})
    sc = scenario_from_data(data)
    assert "options[api].api.fixed_monthly.resilience" in sc.uncertain
    path = "options[api].api.fixed_monthly.resilience"
    sampled = sample_costs(sc, {path: np.array([1000.0, 2000.0])})
    # $6,000 per-token + the sampled item
    assert sampled.monthly_usd["api"] == pytest.approx([7000, 8000])
    # Break-even per sample: (21,000 - item) / 3e-6
    assert sampled.breakeven_tokens[("own", "api")] == pytest.approx([20000 / 3e-6, 19000 / 3e-6])


def test_hybrid_carries_its_own_items_and_the_api_items_while_it_uses_the_api() -> None:
    hybrid = {
        "name": "mix",
        "hybrid": {
            "self_hosted": "own",
            "api": "api",
            "self_hosted_share": 0.5,
            "fixed_monthly": {"gateway": 700},
        },
    }
    data = scenario({"fixed_monthly": {"resilience": 1500}})
    data["options"].append(hybrid)
    result = run(data)
    mix = result.option("mix")
    # Half the traffic to the API: $3,000; the deployment $21,000; gateway $700; the API's own
    # resilience item $1,500 (it carries traffic): $26,200.
    assert mix.breakdown["gateway"] == pytest.approx(700)
    assert mix.breakdown["api_monthly_items"] == pytest.approx(1500)
    assert mix.monthly_cost == pytest.approx(3000 + 21000 + 700 + 1500)
    assert sum(mix.breakdown.values()) == pytest.approx(mix.monthly_cost)
    sampled = sample_costs(scenario_from_data(data), {"hours_per_month": np.array([720.0])})
    assert sampled.monthly_usd["mix"][0] == pytest.approx(mix.monthly_cost)


def test_engineering_both_ways_is_refused() -> None:
    data = scenario({"engineer_fte": 0.5, "engineering_hours_per_month": 10})
    with pytest.raises(ScenarioError, match="engineer_fte or engineering_hours_per_month"):
        scenario_from_data(data)


def test_items_as_large_as_the_deployment_leave_no_breakeven_either_way() -> None:
    # The API's $21,000 of items equal the deployment's $21,000: at V = 0 they tie, and above
    # it the deployment is cheaper at every volume: no volume where it *becomes* cheaper. The
    # point search and the Monte Carlo's closed form agree (a tie at 0 is not a crossing).
    data = scenario({"fixed_monthly": {"resilience": 21000}})
    (row,) = run(data).breakeven
    assert row.tokens_per_month is None
    sampled = sample_costs(scenario_from_data(data), {"hours_per_month": np.array([720.0])})
    assert np.isnan(sampled.breakeven_tokens[("own", "api")][0])


def test_items_can_open_a_window_where_replicas_win_once() -> None:
    # API $1/$2 per MTok ($1.5e-6 a token) + $300 of items; replicas of $300 carrying
    # 50 tokens/s x 720 h x 3,600 s = 129.6M tokens/month each. One replica ($300) ties the API
    # at V = 0 and stays cheaper to 129.6M; the second makes it $600, and the API reaches $600 at
    # (600 - 300) / 1.5e-6 = 200M, inside the second replica's range (129.6M, 259.2M]: the
    # replicas *become* cheaper at 200M, though a replica ($300) costs more than the 129.6M
    # tokens it carries cost on the API ($194.40). Point search and Monte Carlo agree.
    data = {
        "workload": {"tokens_per_month": "1M", "input_share": 0.5},
        "options": [
            {
                "name": "api",
                "api": {"input_per_mtok": 1, "output_per_mtok": 2, "fixed_monthly": {"r": 300}},
            },
            {
                "name": "own",
                "self_hosted": {
                    "gpu": "h100-sxm-80gb",
                    "gpu_monthly_price": 300,
                    "tokens_per_second_per_replica": 50,
                    "ops_defaults": False,
                },
            },
        ],
    }
    (row,) = run(data).breakeven
    assert row.tokens_per_month == pytest.approx(2e8)
    sampled = sample_costs(scenario_from_data(data), {"hours_per_month": np.array([720.0])})
    assert sampled.breakeven_tokens[("own", "api")][0] == pytest.approx(2e8)
