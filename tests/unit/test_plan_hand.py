"""The deployment search on a hand-worked case: three GPUs with stated offers and capacities."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from llm_tco.catalog.loader import load_catalog
from llm_tco.catalog.schema import RentalOffer
from llm_tco.core.capacity import ReplicaCapacity
from llm_tco.plan.build import space_for
from llm_tco.plan.search import search
from llm_tco.plan.space import Deploy
from llm_tco.scenario import scenario_from_data

AS_OF = dt.date(2026, 11, 1)


def offer(id: str, gpu: str, price: float, unit: str = "hour") -> RentalOffer:
    return RentalOffer(
        id=id, provider=id.split("-")[0], gpu=gpu, price=price, price_unit=unit,
        source="test fixture", as_of=AS_OF,
    )  # fmt: skip


# Stated per-replica capacity (total tokens/s at the SLO) and latency at that load.
STATED = {
    "l4": (1_500.0, 900.0, 60.0),  # TPOT 60 ms misses the 50 ms SLO
    "l40s": (4_000.0, 700.0, 40.0),
    "h100-sxm-80gb": (9_000.0, 300.0, 20.0),
}


def stated(d: Deploy, input_tokens: float, output_tokens: float) -> ReplicaCapacity:
    total, ttft, tpot = STATED[d.gpu.id]
    return ReplicaCapacity(
        output_tokens_per_second=total * output_tokens / (input_tokens + output_tokens),
        input_tokens_per_second=total * input_tokens / (input_tokens + output_tokens),
        requests_per_second=total / (input_tokens + output_tokens),
        concurrency=32,
        ttft_ms=ttft,
        tpot_ms=tpot,
        source="stated",
        meets_slo=tpot <= 50 and ttft <= 2000,
    )


def test_hand_worked_search() -> None:
    """10M requests/month of 1,000 input + 200 output tokens = 12B tokens/month.
    Mean load 12e9 / (720 h x 3,600 s) = 4,629.6 tokens/s; peak_to_mean 2 -> 9,259.3 tokens/s.

    - L4 (1,500 tokens/s, TPOT 60 ms > 50 ms SLO): dropped, misses the SLO.
    - L40S at 4,000 tokens/s: ceil(9,259.3 / 4,000) = 3 replicas of 1 GPU.
      offer a $1.00/h: 3 x 1.00 x 720 = $2,160; offer b $1.20/h: 3 x 1.20 x 720 = $2,592.
    - H100 at 9,000 tokens/s: ceil(9,259.3 / 9,000) = 2 replicas.
      offer c $2.50/h: 2 x 2.50 x 720 = $3,600; offer d $1,500/month: 2 x 1,500 = $3,000.
    Ops $1,000/month on each. Cheapest: 3 x L40S on offer a, $2,160 + $1,000 = $3,160;
    then b $3,592, d $4,000, c $4,600.
    """
    real = load_catalog()
    catalog = replace(
        real,
        offers=(
            offer("p-l4", "l4", 0.80),
            offer("a-l40s", "l40s", 1.00),
            offer("b-l40s", "l40s", 1.20),
            offer("c-h100", "h100-sxm-80gb", 2.50),
            offer("d-h100", "h100-sxm-80gb", 1500, "month"),
        ),
    )
    scenario = scenario_from_data(
        {
            "name": "hand",
            "workload": {
                "requests_per_month": 10_000_000,
                "input_tokens_per_request": 1000,
                "output_tokens_per_request": 200,
                "peak_to_mean": 2,
            },
            "options": [
                {
                    "name": "own",
                    "self_hosted": {
                        "model": "llama-3.1-8b",
                        "gpu": "auto",
                        "precision": "auto",
                        "offer": "cheapest",
                        "gpus_per_replica": 1,
                        "engine": "vllm",
                        "ops_monthly": 1000,
                    },
                }
            ],
        }
    )
    space = space_for(scenario, catalog)
    space.gpus = ("l4", "l40s", "h100-sxm-80gb")
    space.precisions = ("bf16",)
    plan = search(space, catalog, capacity=stated, hosted=False)
    assert plan.cheapest is not None
    chosen = plan.cheapest
    assert (chosen.gpu, chosen.offer, chosen.replicas, chosen.gpus) == ("l40s", "a-l40s", 3, 3)
    assert chosen.monthly_cost == pytest.approx(3_160.0)
    costs = [(d.offer, round(d.monthly_cost, 6)) for d in plan.deployments]
    assert costs == [("a-l40s", 3160.0), ("b-l40s", 3592.0), ("d-h100", 4000.0), ("c-h100", 4600.0)]
    assert plan.peak_tokens_per_second == pytest.approx(12e9 / (720 * 3600) * 2)
    misses = [d for d in plan.dropped if d.reason == "misses_slo"]
    assert [d.gpu for d in misses] == ["l4"]
    # Front: L40S a ($3,160, 40 ms) and H100 d ($4,000, 20 ms); b and c are dominated.
    assert [d.offer for d in plan.pareto] == ["a-l40s", "d-h100"]
