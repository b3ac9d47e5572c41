"""The deployment search equals a brute-force loop that prices every candidate one at a time
through ``evaluate`` (the scalar path), on a small fixture catalog."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llm_tco.capacity_factors import catalog_efficiencies
from llm_tco.catalog.loader import load_catalog
from llm_tco.catalog.schema import RentalOffer
from llm_tco.core import capacity as capacity_model
from llm_tco.core.capacity import select_efficiency
from llm_tco.core.memory import TP_SIZES
from llm_tco.evaluate import price_options
from llm_tco.plan.build import space_for
from llm_tco.plan.search import peak_tokens_per_second, search
from llm_tco.scenario import scenario_from_data

GPUS = ("l4", "l40s", "h100-sxm-80gb")
PRECISIONS = ("bf16", "fp8", "int4")
MODEL = "llama-3.1-8b"
REAL = load_catalog()


def fixture_catalog(prices: list[tuple[str, float]]):  # type: ignore[no-untyped-def]
    offers = tuple(
        RentalOffer(
            id=f"p{i}-{gpu}", provider=f"p{i}", gpu=gpu, price=price, price_unit="hour",
            source="test fixture", as_of=dt.date(2026, 11, 1),
        )
        for i, (gpu, price) in enumerate(prices)
    )  # fmt: skip
    models = tuple(m for m in REAL.models if m.id == MODEL)
    gpus = tuple(g for g in REAL.gpus if g.id in GPUS)
    return replace(REAL, offers=offers, models=models, gpus=gpus)


def scenario(tokens: float, peak: float, tpot: float, ttft: float, self_hosted: dict):  # type: ignore[no-untyped-def,type-arg]
    return scenario_from_data(
        {
            "name": "brute",
            "workload": {"tokens_per_month": tokens, "input_share": 0.8, "peak_to_mean": peak},
            "options": [
                {
                    "name": "own",
                    "self_hosted": {
                        "model": MODEL, "engine": "vllm", "ops_monthly": 500,
                        "tpot_slo_ms": tpot, "ttft_slo_ms": ttft, **self_hosted,
                    },
                }
            ],
        }
    )  # fmt: skip


def brute_force(catalog, tokens, peak, tpot, ttft):  # type: ignore[no-untyped-def]
    """Every (GPU, precision, GPUs per replica, offer) priced by evaluate, one at a time; kept
    when its replica holds the model and the capacity model says it meets the SLO."""
    found = {}
    for offer in catalog.offers:
        gpu = catalog.gpu(offer.gpu)
        for precision in PRECISIONS:
            for size in (s for s in TP_SIZES if s <= 8):
                spec = {"gpu": gpu.id, "precision": precision, "offer": offer.id,
                        "gpus_per_replica": size}  # fmt: skip
                sc = scenario(tokens, peak, tpot, ttft, spec)
                priced = price_options(sc, catalog).priced[0]
                if priced.never_serves is not None:
                    continue
                kv = "fp8" if precision == "fp8" else "bf16"  # evaluate's KV default
                eff = select_efficiency(catalog_efficiencies(catalog), "vllm", gpu.vendor)
                # No request shape given: 200 output tokens per request, 80% input -> 800.
                input_len, output_len = 800.0, 200.0
                cap = capacity_model.replica_capacity(
                    catalog.model(MODEL), gpu, precision, kv, size, input_len, output_len,
                    capacity_model.Slo(tpot_ms=tpot, ttft_ms=ttft), eff,
                )  # fmt: skip
                if not cap.meets_slo:
                    continue
                found[(gpu.id, precision, size, offer.id)] = priced.result.monthly_cost
    return found


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(
    prices=st.lists(st.tuples(st.sampled_from(GPUS), st.floats(0.3, 6.0)), min_size=1, max_size=4),
    tokens=st.floats(1e7, 3e10),
    peak=st.floats(1.0, 4.0),
    tpot=st.sampled_from([15.0, 30.0, 50.0, 100.0]),
    ttft=st.sampled_from([300.0, 2000.0]),
)
def test_search_equals_brute_force(prices, tokens, peak, tpot, ttft) -> None:  # type: ignore[no-untyped-def]
    catalog = fixture_catalog(prices)
    auto = {"gpu": "auto", "precision": "auto", "offer": "cheapest"}
    space = space_for(scenario(tokens, peak, tpot, ttft, auto), catalog)
    space.precisions = PRECISIONS
    plan = search(space, catalog, hosted=False)
    got = {
        (d.gpu, d.precision, d.gpus_per_replica, d.offer): d.monthly_cost for d in plan.deployments
    }
    want = brute_force(catalog, tokens, peak, tpot, ttft)
    assert got.keys() == want.keys()
    for key, cost in want.items():
        assert got[key] == pytest.approx(cost, rel=1e-9)
    if want:
        assert plan.cheapest is not None
        assert plan.cheapest.monthly_cost == pytest.approx(min(want.values()), rel=1e-9)
    else:
        assert plan.cheapest is None and "no deployment" in plan.why
    # Every returned deployment carries the peak within its replicas' capacity.
    peak_load = peak_tokens_per_second(space)
    for d in plan.deployments:
        serving = d.replicas  # no N+1 spares in this scenario
        assert serving * d.capacity_tokens_per_second_per_replica >= peak_load * (1 - 1e-9)
        assert (serving - 1) * d.capacity_tokens_per_second_per_replica < peak_load
