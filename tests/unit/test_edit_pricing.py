"""A page edit prices once: what the view derives from the one pricing is the full pricing's.

The shortcuts (the tornado pricing only its two options, capacity-model runs kept per catalog,
catalog look-up tables) must not change a figure: each is compared with the long way round.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np

from llm_tco.catalog.loader import load_catalog
from llm_tco.evaluate import evaluate, price_options
from llm_tco.recommend_eval import capability_tax
from llm_tco.scenario import load_scenario
from llm_tco.simulate import sample_costs

ROOT = Path(__file__).resolve().parents[2]
FIVE = ROOT / "benchmarks" / "five-options.yaml"
RANGES = ROOT / "benchmarks" / "uncertainty_scenario.yaml"
HYBRID = ROOT / "examples" / "hybrid-llama-sonnet.yaml"


def _fresh_catalog():
    """The shipped catalog as a new object: nothing derived from it kept yet."""
    return dataclasses.replace(load_catalog())


def test_pricing_two_options_gives_their_costs_of_pricing_all() -> None:
    for path in (FIVE, RANGES, HYBRID):
        scenario = load_scenario(path)
        catalog = load_catalog()
        state = price_options(scenario, catalog)
        names = [o.name for o in scenario.options]
        draws = {"workload.peak_to_mean": np.array([1.0, 1.5, 3.0])}
        full = sample_costs(scenario, draws, catalog, state)
        for pair in itertools.pairwise(names):
            part = sample_costs(scenario, draws, catalog, state, options=pair, breakevens=False)
            assert part.breakeven_tokens == {}
            for name in pair:
                np.testing.assert_array_equal(part.monthly_usd[name], full.monthly_usd[name])


def test_kept_capacity_runs_give_the_figures_of_a_fresh_catalog() -> None:
    # Two volumes of the same request shape: the second edit reuses the first's capacity run.
    scenario = load_scenario(FIVE)
    catalog = _fresh_catalog()
    first = evaluate(scenario, catalog, suggest=False)
    again = evaluate(scenario, catalog, suggest=False)
    fresh = evaluate(scenario, _fresh_catalog(), suggest=False)
    assert again.model_dump_json() == first.model_dump_json() == fresh.model_dump_json()
    # A different request shape is a different capacity run: 4 x A100 serve fewer requests of
    # 4,000 input tokens than of 1,000 (prefill grows with the prompt).
    longer = scenario.model_copy(
        update={
            "workload": scenario.workload.model_copy(update={"input_tokens_per_request": 4000.0})
        }
    )
    shifted = evaluate(longer, catalog, suggest=False)
    own = "llama-3.3-70b-4xa100"
    short_rps = first.option(own).deployment.capacity_tokens_per_second_per_replica / 1200
    long_rps = shifted.option(own).deployment.capacity_tokens_per_second_per_replica / 4200
    assert long_rps < short_rps


def test_no_capability_tax_stated_prices_nothing() -> None:
    # benchmarks/five-options.yaml states no retry or acceptance rate: no row, and no pricing.
    scenario = load_scenario(FIVE)
    catalog = load_catalog()
    result = evaluate(scenario, catalog, suggest=False)
    calls = []

    class Counting:
        def __getattr__(self, name: str):
            calls.append(name)
            return getattr(catalog, name)

    # Without a state it would price the scenario first, reading the catalog: it reads nothing.
    assert capability_tax(scenario, result, Counting()) == []  # type: ignore[arg-type]
    assert calls == []
