"""A speculative-decoding acceptance rate given as a range: the Monte Carlo and the tornado
re-find the replica's capacity at each sampled rate (the same capacity model as ``evaluate``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from llm_tco import evaluate, sensitivity, simulate
from llm_tco.core.speculative import expected_tokens_per_step
from llm_tco.scenario import scenario_from_data
from llm_tco.simulate import sample_costs

PATH = "options[own].self_hosted.speculative.acceptance_rate"
GPU_MONTH_USD = 2.5 * 720  # one H100 at the scenario's $2.50/GPU-hour over a 720-hour month


def data(acceptance: Any) -> dict[str, Any]:
    # 300M requests of 1,000 + 200 tokens a month: 3.6e11 tokens / 2,592,000 s = 138,889
    # tokens/s, Llama-3.1-8B on one H100 per replica at a 10 ms mean TPOT, 4 draft tokens.
    return {
        "name": "speculative range",
        "workload": {
            "requests_per_month": 300_000_000,
            "input_tokens_per_request": 1000,
            "output_tokens_per_request": 200,
        },
        "options": [
            {
                "name": "own",
                "self_hosted": {
                    "model": "llama-3.1-8b",
                    "gpu": "h100-sxm-80gb",
                    "gpu_hourly_price": 2.5,
                    "tpot_slo_ms": 10,
                    "speculative": {"acceptance_rate": acceptance, "draft_tokens": 4},
                },
            },
            {"name": "api", "api": {"input_per_mtok": 0.2, "output_per_mtok": 0.6}},
        ],
    }


def own(acceptance: float) -> Any:
    return evaluate(scenario_from_data(data(acceptance))).options[0]


def test_the_range_is_an_uncertain_input() -> None:
    scenario = scenario_from_data(data({"low": 0.6, "high": 0.8}))
    assert scenario.uncertain[PATH].bounds == (0.6, 0.8)
    spec = scenario.options[0].self_hosted
    assert spec is not None and spec.speculative is not None
    assert spec.speculative.acceptance_rate == pytest.approx(0.7)  # the point value: the middle


def test_each_sample_is_priced_at_its_own_acceptance_rate() -> None:
    low, high = own(0.6), own(0.8)
    # Leviathan et al. 2023 eq. 1, gamma 4: (1 - 0.6^5) / 0.4 = 2.3056; (1 - 0.8^5) / 0.2 = 3.3616
    assert expected_tokens_per_step(0.6, 4) == pytest.approx(2.3056)
    assert "acceptance 0.6: 2.31 tokens per step" in low.deployment.capacity_source
    assert "acceptance 0.8: 3.36 tokens per step" in high.deployment.capacity_source
    # 138,889 tokens/s needs more GPUs at the lower rate (how many more follows the fitted
    # capacity factors in efficiency.yaml): the cost gap is that many GPU-months.
    assert low.gpus > high.gpus
    assert low.monthly_cost - high.monthly_cost == pytest.approx(
        (low.gpus - high.gpus) * GPU_MONTH_USD
    )

    scenario = scenario_from_data(data({"low": 0.6, "high": 0.8}))
    draws = {PATH: np.array([0.6, 0.8, 0.6])}
    sampled = sample_costs(scenario, draws)
    expected = [low.monthly_cost, high.monthly_cost, low.monthly_cost]
    assert sampled.monthly_usd["own"] == pytest.approx(expected, rel=1e-12)
    assert PATH not in sampled.held_at_point


def test_the_monte_carlo_and_the_tornado_read_the_range() -> None:
    scenario = scenario_from_data(data({"low": 0.6, "high": 0.8}))
    result = simulate(scenario, samples=64, seed=1)
    assert PATH not in result.held_at_point
    band = next(o for o in result.options if o.name == "own")
    low, high = own(0.6).monthly_cost, own(0.8).monthly_cost
    # Samples drawn below the rate where 7 GPUs become 6 cost a GPU-month more.
    assert band.monthly_usd.p90 > band.monthly_usd.p10

    rows = sensitivity(scenario, option="own", versus="api", spread=0.0).rows
    row = next(r for r in rows if r.path == PATH)
    api = next(o for o in own_result(0.7).options if o.name == "api").monthly_cost
    # The tornado prices each input's two ends in a run of their own, where the capacity model
    # sees each acceptance rate exactly (evaluate.quantise leaves a handful of distinct values
    # as they are): each end costs what evaluate gives at that rate. (Priced inside the flip
    # search's grid, quantised over its 0.2..1.0 span, the 0.8 end once cost a GPU-month more.)
    for gap, cost in ((row.gap_at_low_usd, low), (row.gap_at_high_usd, high)):
        assert gap == pytest.approx(cost - api, abs=1e-6)
    assert row.swing_usd >= GPU_MONTH_USD - 1e-6


def own_result(acceptance: float) -> Any:
    return evaluate(scenario_from_data(data(acceptance)))
