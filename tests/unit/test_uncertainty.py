"""Ranges, seeded Monte Carlo, and the collapsed-range identity with deterministic evaluation."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from llm_tco.core.breakeven import first_breakeven
from llm_tco.core.uncertainty import Distribution
from llm_tco.evaluate import evaluate
from llm_tco.scenario import load_scenario, scenario_from_data
from llm_tco.sensitivity import numeric_inputs
from llm_tco.simulate import sample_costs, simulate

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))


def _scenario(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "workload": {"tokens_per_month": "1B", "input_share": 0.6},
        "options": [
            {"name": "api", "api": {"input_per_mtok": 2.5, "output_per_mtok": 10}},
            {
                "name": "own",
                "self_hosted": {
                    "gpu": "h100-sxm-80gb",
                    "gpu_count": 2,
                    "gpu_hourly_price": 2.49,
                    "ops_monthly": 400,
                },
            },
        ],
    }
    data.update(overrides)
    return data


def test_range_forms_and_point_values() -> None:
    data = _scenario()
    own = data["options"][1]["self_hosted"]  # type: ignore[index]
    own["ops_monthly"] = {"low": 500, "high": 2000}
    own["gpu_hourly_price"] = {"triangular": [2.0, 2.49, 3.0]}
    data["options"][0]["api"]["output_per_mtok"] = {"lognormal": {"median": 10, "p90": 14}}  # type: ignore[index]
    scenario = scenario_from_data(data)
    assert scenario.options[1].self_hosted.ops_monthly == 1250  # midpoint of 500..2000
    assert scenario.options[1].self_hosted.gpu_hourly_price == 2.49  # the mode
    assert scenario.options[0].api.output_per_mtok == 10  # the median
    assert set(scenario.uncertain) == {
        "options[own].self_hosted.ops_monthly",
        "options[own].self_hosted.gpu_hourly_price",
        "options[api].api.output_per_mtok",
    }
    # lognormal P10 = median^2 / p90 = 100 / 14
    assert scenario.uncertain["options[api].api.output_per_mtok"].bounds[0] == pytest.approx(
        100 / 14
    )


def test_a_range_with_equal_ends_is_that_number() -> None:
    assert Distribution("uniform", 3.0, 3.0).point == 3.0
    rng = np.random.default_rng(0)
    assert np.all(Distribution("triangular", 2.0, 2.0, 2.0).sample(rng, 5) == 2.0)


def test_same_seed_same_bytes_other_seed_differs() -> None:
    data = _scenario()
    data["options"][1]["self_hosted"]["ops_monthly"] = {"low": 500, "high": 2000}  # type: ignore[index]
    data["workload"]["tokens_per_month"] = {"low": "500M", "high": "2B"}  # type: ignore[index]
    scenario = scenario_from_data(data)
    first = simulate(scenario, 2000, seed=7).model_dump_json()
    assert simulate(scenario, 2000, seed=7).model_dump_json() == first
    assert simulate(scenario, 2000, seed=8).model_dump_json() != first


def test_probability_and_breakeven_band_by_hand() -> None:
    # Fixed cost 2 x $2.49 x 720 h + $400 = $3,985.60; API blended 0.6 x 2.5 + 0.4 x 10 = $5.50
    # per MTok, so break-even = 3,985.6 / 5.5e-6 = 724.65M tokens (seed "Open Source vs API").
    # With volume uniform on 500M..2B, P(self-hosted cheaper) = (2000 - 724.65) / 1500 = 0.850.
    data = _scenario()
    data["workload"]["tokens_per_month"] = {"low": "500M", "high": "2B"}  # type: ignore[index]
    sim = simulate(scenario_from_data(data), 100_000, seed=1)
    own = next(o for o in sim.options if o.name == "own")
    assert own.probability_cheapest == pytest.approx(0.850, abs=0.005)
    band = sim.breakeven[0].tokens_per_month
    assert band is not None and band.p50 == pytest.approx(3985.6 / 5.5e-6)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_collapsed_ranges_equal_the_deterministic_result_exactly(path: Path) -> None:
    scenario = load_scenario(path)
    result = evaluate(scenario, volumes=[])
    draws = {p: np.full(4, v) for p, v in numeric_inputs(scenario).items()}
    sampled = sample_costs(scenario, draws)
    for option in result.options:
        assert np.all(sampled.monthly_usd[option.name] == option.monthly_cost), option.name
    for row in result.breakeven:
        values = sampled.breakeven_tokens[(row.option, row.versus)]
        if row.tokens_per_month is None:
            assert np.all(np.isnan(values))
        else:
            assert np.all(values == row.tokens_per_month)


def test_degenerate_ranges_in_the_file_give_the_point_result() -> None:
    data = _scenario()
    data["options"][1]["self_hosted"]["ops_monthly"] = {"low": 400, "high": 400}  # type: ignore[index]
    scenario = scenario_from_data(data)
    point = evaluate(scenario, volumes=[])
    sim = simulate(scenario, 1000, seed=3)
    for band, option in zip(sim.options, point.options, strict=True):
        assert band.monthly_usd.p10 == band.monthly_usd.p90 == option.monthly_cost


def test_autoscaled_breakeven_matches_the_exact_search() -> None:
    data = _scenario()
    data["options"][1]["self_hosted"].update(  # type: ignore[index]
        {"gpu_count": "auto", "tokens_per_second_per_replica": 300, "variable_per_mtok": 0.5}
    )
    scenario = scenario_from_data(data)
    result = evaluate(scenario, volumes=[])
    assert result.breakeven[0].tokens_per_month is not None
    volumes = sample_costs(scenario, {"hours_per_month": np.full(2, 720.0)}).breakeven_tokens
    assert volumes[("own", "api")][0] == pytest.approx(
        result.breakeven[0].tokens_per_month, rel=1e-12
    )


def test_never_cheaper_is_nan() -> None:
    from llm_tco.core.costs import CostCurve

    own = CostCurve(np.array([100.0]), np.array([2e-6]), np.zeros(1), np.array([np.inf]))
    assert np.isnan(first_breakeven(own, np.array([1e-6]))[0])


def test_probability_cheapest_counts_only_samples_an_option_can_serve() -> None:
    from llm_tco.core.uncertainty import probability_cheapest

    # Four samples: "own" is cheapest on paper in all of them but can serve only the first
    # two; in the last sample nothing can serve, so it counts for no option.
    costs = {"api": np.array([5.0, 5.0, 5.0, 5.0]), "own": np.array([1.0, 1.0, 1.0, 1.0])}
    feasible = {
        "api": np.array([True, True, True, False]),
        "own": np.array([True, True, False, False]),
    }
    assert probability_cheapest(costs, feasible) == {"api": 0.25, "own": 0.5}
    # NaN is never the cheapest.
    assert probability_cheapest({"a": np.array([np.nan]), "b": np.array([2.0])}) == {
        "a": 0.0,
        "b": 1.0,
    }


def test_modelled_capacity_carries_the_capacity_models_error_band() -> None:
    from llm_tco.scenario import load_scenario
    from llm_tco.simulate import CAPACITY_ERROR, sample_costs, simulate
    from support import run_example

    # Seed 1: the 4 x A100 Llama deployment's capacity comes from the capacity model. At
    # 12B tokens/month it needs 12B / C of its modelled capacity C (tokens/month): a sample
    # whose measured/predicted ratio is below 12B / C cannot serve, one above can.
    path = (
        Path(__file__).resolve().parents[2] / "examples" / "seed1-high-volume-haiku-vs-llama.yaml"
    )
    point = run_example("seed1-high-volume-haiku-vs-llama.yaml")
    llama = point.option("llama-3.3-70b")
    assert llama.deployment is not None and llama.deployment.capacity_tokens_per_month
    needed = 12e9 / llama.deployment.capacity_tokens_per_month
    ratios = np.array([0.5, needed * 0.99, needed * 1.01, 3.0])
    error = f"options[llama-3.3-70b].self_hosted.{CAPACITY_ERROR}"
    sampled = sample_costs(load_scenario(path), {error: ratios})
    assert sampled.feasible["llama-3.3-70b"].tolist() == [False, False, True, True]
    assert sampled.feasible["claude-haiku-4.5"].all()
    # The simulation lists it among its ranges, centred on the model's prediction (ratio 1).
    sim = simulate(load_scenario(path), 500, seed=3)
    (band,) = [i for i in sim.inputs if i.path == error]
    assert band.point == 1.0 and band.low < 1.0 < band.high
    # One band per model class, quoted the same way everywhere: the capacity note beside the
    # deployment names the dense band the simulation draws from (Llama 3.3 70B is dense), not
    # the band of every row.
    from llm_tco.capacity_factors import error_band

    dense, every = error_band(False), error_band(None)
    assert dense is not None and every is not None and dense.rows < every.rows
    assert llama.deployment.capacity_source is not None
    assert dense.describe() in llama.deployment.capacity_source
    assert every.describe() not in llama.deployment.capacity_source


def _sample_at(data: dict[str, object], values: dict[str, float]) -> dict[str, float]:
    draws = {path: np.array([value]) for path, value in values.items()}
    sampled = sample_costs(scenario_from_data(copy.deepcopy(data)), draws)
    assert not sampled.held_at_point, sampled.held_at_point
    return {name: float(cost[0]) for name, cost in sampled.monthly_usd.items()}


def test_sampled_slo_reaches_the_capacity_model() -> None:
    # An SLO range on a deployment sized by the capacity model is no longer held at point: the
    # sample drawn at a TPOT of 25 ms costs what evaluate gives with 25 ms written in, and a
    # tight SLO (fewer tokens/s per replica, so more replicas) costs more than a loose one.
    def data(tpot: object) -> dict[str, object]:
        own = {
            "model": "llama-3.1-8b",
            "gpu": "a10",
            "gpu_count": "auto",
            "gpu_hourly_price": 0.6,
            "tpot_slo_ms": tpot,
        }
        return {
            "workload": {"tokens_per_month": "1B", "input_share": 0.8},
            "options": [
                {"name": "api", "api": {"input_per_mtok": 0.8, "output_per_mtok": 4}},
                {"name": "own", "self_hosted": own},
            ],
        }

    ranged = data({"low": 20, "high": 80})
    path = "options[own].self_hosted.tpot_slo_ms"
    costs = {}
    for tpot in (20.0, 25.0, 80.0):
        got = _sample_at(ranged, {path: tpot})["own"]
        expected = evaluate(scenario_from_data(data(tpot)), volumes=[]).options[1].monthly_cost
        assert got == pytest.approx(expected, rel=1e-12), tpot
        costs[tpot] = got
    assert costs[20.0] > costs[80.0]


def test_sampled_routing_settings_reach_the_hybrid_split() -> None:
    # Fallback rate, router upkeep and a fixed self-hosted share drawn at v cost what evaluate
    # gives with v written in (examples/hybrid-llama-sonnet.yaml's hybrid-85).
    import yaml

    base = yaml.safe_load((EXAMPLES[0].parent / "hybrid-llama-sonnet.yaml").read_text())
    hybrid = next(o for o in base["options"] if o["name"] == "hybrid-85")["hybrid"]
    ranged = copy.deepcopy(base)
    ranged_hybrid = next(o for o in ranged["options"] if o["name"] == "hybrid-85")["hybrid"]
    ranged_hybrid.update(
        fallback_rate={"low": 0.0, "high": 0.2},
        routing_monthly={"low": 0, "high": 2000},
        self_hosted_share={"low": 0.5, "high": 0.95},
    )
    p = "options[hybrid-85].hybrid."
    for fallback, routing, share in ((0.0, 0.0, 0.5), (0.13, 1234.0, 0.9)):
        got = _sample_at(
            ranged,
            {
                p + "fallback_rate": fallback,
                p + "routing_monthly": routing,
                p + "self_hosted_share": share,
                "options[llama-3.3-70b].self_hosted.ops_monthly": 1250.0,
            },
        )["hybrid-85"]
        written = copy.deepcopy(base)
        hybrid = next(o for o in written["options"] if o["name"] == "hybrid-85")["hybrid"]
        hybrid.update(fallback_rate=fallback, routing_monthly=routing, self_hosted_share=share)
        own = next(o for o in written["options"] if o["name"] == "llama-3.3-70b")
        own["self_hosted"]["ops_monthly"] = 1250.0
        result = evaluate(scenario_from_data(written), volumes=[])
        expected = next(o for o in result.options if o.name == "hybrid-85").monthly_cost
        assert got == pytest.approx(expected, rel=1e-12), (fallback, routing, share)
