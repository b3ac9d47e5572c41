"""``gpu: auto, precision: auto, offer: cheapest`` evaluates, says what it chose, and costs no
more than any explicit deployment of the same model the catalog allows."""

from __future__ import annotations

from llm_tco.capacity_factors import catalog_efficiencies
from llm_tco.catalog.loader import load_catalog
from llm_tco.core import capacity as capacity_model
from llm_tco.core.memory import TP_SIZES
from llm_tco.errors import ScenarioError
from llm_tco.evaluate import evaluate, price_options
from llm_tco.plan.space import PRECISIONS, Space, current_offers, purchase_terms
from llm_tco.scenario import scenario_from_data

MODEL = "llama-3.1-8b"
WORKLOAD = {
    "requests_per_month": 3_000_000,
    "input_tokens_per_request": 1500,
    "output_tokens_per_request": 300,
    "peak_to_mean": 3,
}
SLO = {"tpot_slo_ms": 50, "ttft_slo_ms": 2000}


def scenario(self_hosted: dict):  # type: ignore[no-untyped-def,type-arg]
    return scenario_from_data(
        {
            "name": "auto",
            "workload": WORKLOAD,
            "options": [
                {"name": "haiku", "api": {"model": "claude-haiku-4.5"}},
                {
                    "name": "own",
                    "self_hosted": {
                        "model": MODEL, "engine": "vllm", "ops_monthly": 2000,
                        **SLO, **self_hosted,
                    },
                },
            ],
        }
    )  # fmt: skip


def test_auto_is_no_dearer_than_any_explicit_deployment() -> None:
    """Every catalog GPU x precision x GPUs per replica (1-8) x current offer (and buying, where
    the catalog has a purchase price), on vLLM (the engine the option names), is priced by
    evaluate; among those that hold the model and meet the SLO, none is cheaper than auto."""
    catalog = load_catalog()
    auto = evaluate(
        scenario({"gpu": "auto", "precision": "auto", "offer": "cheapest"}), catalog
    ).option("own")
    assert auto.feasible and auto.chosen_by_search
    assert auto.deployment is not None and auto.deployment.gpu in auto.chosen_by_search
    efficiencies = catalog_efficiencies(catalog)
    arch = catalog.model(MODEL)
    space = Space(arch, None, 720.0, None, None)  # type: ignore[arg-type]
    prices = [({"offer": o.id}, o.gpu) for o in current_offers(catalog, space)]
    terms = purchase_terms(catalog)
    assert terms is not None
    prices += [
        ({"purchase": terms.model_dump()}, g.id) for g in catalog.gpus if g.purchase_price_usd
    ]
    checked = 0
    for price, gpu_id in prices:
        gpu = catalog.gpu(gpu_id)
        eff = capacity_model.select_efficiency(efficiencies, "vllm", gpu.vendor)
        for precision in PRECISIONS:
            for size in (s for s in TP_SIZES if s <= 8):
                spec = {"gpu": gpu_id, "precision": precision, "gpus_per_replica": size, **price}
                try:
                    priced = price_options(scenario(spec), catalog).priced[1]
                except ScenarioError as exc:  # evaluate cannot size it: not a deployment
                    assert "capacity" in str(exc), spec
                    continue
                if priced.never_serves is not None:
                    continue
                kv = "fp8" if precision == "fp8" else "bf16"
                cap = capacity_model.replica_capacity(
                    arch, gpu, precision, kv, size, 1500, 300, capacity_model.Slo(50, 2000), eff
                )  # type: ignore[arg-type]
                if not cap.meets_slo:
                    continue
                checked += 1
                assert auto.monthly_cost <= priced.result.monthly_cost * (1 + 1e-9), spec
    assert checked > 50
