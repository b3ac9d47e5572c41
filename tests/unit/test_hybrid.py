"""Hybrid routing: end points equal the pure options, the optimiser beats every 1% share."""

from __future__ import annotations

import math

import numpy as np
import pytest

from llm_tco.core.costs import CostCurve
from llm_tco.core.hybrid import Split, max_share, optimal_shares, optimise_share, split_cost
from llm_tco.evaluate import evaluate
from llm_tco.scenario import scenario_from_data


def _split(
    fixed: float = 8000.0,
    capacity: float = math.inf,
    fallback: float = 0.0,
    step: float = 0.0,
    per_step: float = math.inf,
    routing: float = 0.0,
) -> Split:
    own = CostCurve(
        np.array([fixed]),
        np.array([0.1e-6]),
        np.array([step]),
        np.array([per_step]),
        min_steps=1 if step else 0,
    )
    return Split(own, np.array([2e-6]), np.array([capacity]), fallback, routing)


def test_split_cost_by_hand() -> None:
    # 10B tokens: the API alone costs 10e9 x $2/MTok = $20,000.
    split = _split(capacity=6e9, fallback=0.05, routing=500)
    assert split_cost(split, 10e9, 0.0)[0] == pytest.approx(20_000)
    # All to self-hosted: 6B served ($8,000 + 6e9 x $0.10/MTok = $8,600), 4B overflow and
    # 5% x 6B = 0.3B fallback to the API (4.3e9 x $2/MTok = $8,600): $17,200, no router.
    assert split_cost(split, 10e9, 1.0)[0] == pytest.approx(17_200)
    # Half: 5B served ($8,500), API 5B + 0.25B fallback ($10,500), router $500: $19,500.
    assert split_cost(split, 10e9, 0.5)[0] == pytest.approx(19_500)


def _scenario(share: object, fallback: float = 0.0) -> dict[str, object]:
    return {
        "workload": {
            "requests_per_month": "2M",
            "input_tokens_per_request": 1000,
            "output_tokens_per_request": 200,
        },
        "options": [
            {"name": "haiku", "api": {"input_per_mtok": 1, "output_per_mtok": 5}},
            {
                "name": "llama",
                "self_hosted": {
                    "gpu": "a100-80gb-sxm",
                    "gpu_count": 4,
                    "gpus_per_replica": 4,
                    "gpu_monthly_price": 1500,
                    "ops_monthly": 2000,
                    "variable_per_mtok": 0.1,
                    "tokens_per_second_per_replica": 2000,
                },
            },
            {
                "name": "mix",
                "hybrid": {
                    "self_hosted": "llama",
                    "api": "haiku",
                    "self_hosted_share": share,
                    "fallback_rate": fallback,
                    "routing_monthly": 750,
                },
            },
        ],
    }


@pytest.mark.parametrize(("share", "pure"), [(0.0, "haiku"), (1.0, "llama")])
def test_share_ends_equal_the_pure_options(share: float, pure: str) -> None:
    result = evaluate(scenario_from_data(_scenario(share)), volumes=[])
    # 2.4B tokens/month is within llama's 2,000 tokens/s x 2.592M s = 5.18B capacity.
    assert result.option("mix").monthly_cost == pytest.approx(
        result.option(pure).monthly_cost, rel=1e-12
    )


@pytest.mark.parametrize(
    "split",
    [
        _split(),
        _split(capacity=3e9),
        _split(capacity=3e9, fallback=0.2, routing=900),
        _split(fixed=500, step=3000, per_step=1.3e9),
        _split(fixed=0, step=9000, per_step=4e9, fallback=0.1, routing=300),
    ],
)
@pytest.mark.parametrize("volume", [1e8, 2e9, 7.7e9, 3e10])
def test_optimiser_never_beaten_on_a_one_percent_grid(split: Split, volume: float) -> None:
    _, best = optimise_share(split, volume)
    grid = split_cost(split, volume, np.linspace(0, 1, 101))
    assert best <= grid.min() + 1e-9


@pytest.mark.parametrize("upper", [1.0, 0.6])
@pytest.mark.parametrize("volume", [1e8, 2e9, 7.7e9, 3e10])
def test_optimiser_equals_every_step_point_and_is_the_same_for_samples(
    volume: float, upper: float
) -> None:
    # Brute force: every share where cost(s) can bend (ends, capacity, each replica step).
    splits = [
        _split(fixed=500, step=3000, per_step=1.3e9),
        _split(fixed=0, step=9000, per_step=4e9, fallback=0.1, routing=300),
        _split(fixed=6000, step=0, per_step=np.inf, capacity=3e9),
    ]
    for split in splits:
        step = float(np.ravel(split.own.tokens_per_step)[0])
        points = [0.0, upper, float(split.capacity_tokens_per_month[0]) / volume]
        if np.isfinite(step):
            points += [k * step / volume for k in range(1, int(upper * volume / step) + 1)]
        shares = np.array([p for p in points if 0 <= p <= upper])
        assert optimise_share(split, volume, upper)[1] == pytest.approx(
            split_cost(split, volume, shares).min(), rel=1e-12
        )
    # The same splits as samples (one row each) give each one's optimum.
    samples = Split(
        own=CostCurve(
            fixed_usd=np.array([[500.0], [0.0], [6000.0]]),
            usd_per_token=np.array([[float(s.own.usd_per_token[0])] for s in splits]),
            step_usd=np.array([[3000.0], [9000.0], [0.0]]),
            tokens_per_step=np.array([[1.3e9], [4e9], [np.inf]]),
            min_steps=splits[0].own.min_steps,
            extra_steps=splits[0].own.extra_steps,
        ),
        api_usd_per_token=np.array([[float(s.api_usd_per_token[0])] for s in splits]),
        capacity_tokens_per_month=np.array(
            [[float(s.capacity_tokens_per_month[0])] for s in splits]
        ),
        fallback_rate=np.array([[float(s.fallback_rate)] for s in splits]),
        routing_monthly_usd=np.array([[float(s.routing_monthly_usd)] for s in splits]),
    )
    together = optimal_shares(samples, np.full(3, volume), upper)
    for i, split in enumerate(splits):
        share, monthly = optimise_share(split, volume, upper)
        assert (together.share[i], together.monthly_usd[i]) == pytest.approx((share, monthly))


def test_quality_floor_caps_the_share() -> None:
    # q(s) = 0.95 - s x (1 - 0) x (0.95 - 0.85) >= 0.88  =>  s <= 0.7
    assert max_share(0.85, 0.95, 0.88) == pytest.approx(0.7)
    result = evaluate(scenario_from_data(_scenario("optimise")), volumes=[])
    info = result.option("mix").hybrid
    assert info is not None and len(info.split_curve) == 101
    # Haiku alone: 2B x $1 + 0.4B x $5 = $4,000; llama alone $6,000 + $2,000 + 2.4B x $0.10/MTok
    # = $8,240; any share in between pays llama's fixed cost too: all-API is cheapest.
    assert info.self_hosted_share == 0.0
    assert result.option("mix").monthly_cost == pytest.approx(4000)
