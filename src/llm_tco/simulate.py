"""Monte Carlo over a scenario's ranges: per-sample costs and break-evens as numpy arrays.

The scenario is priced once at its point values (:func:`llm_tco.evaluate.price_options`); then
the same pricing functions (:mod:`llm_tco.resolve`, :mod:`llm_tco.evaluate`,
:mod:`llm_tco.core.costs`) run once more with an :class:`~llm_tco.resolve.Inputs` that holds
the sampled arrays, so every sample is priced by the one formula for each line item (no Python
loop over samples). Inputs without a range keep the deterministic value, so each sample drawn
at v equals the deterministic result of the scenario with v written in (a property test).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, cast

import numpy as np
from numpy.typing import NDArray

from llm_tco.catalog.loader import Catalog, load_catalog
from llm_tco.core.breakeven import first_breakeven
from llm_tco.core.costs import (
    ApiOption,
    CostCurve,
    FloatArray,
    SelfHostedOption,
    api_line_items,
    api_usd_per_token,
    replica_count,
    self_hosted_curve,
    self_hosted_line_items,
    within_capacity,
)
from llm_tco.core.hybrid import optimal_shares, split_cost
from llm_tco.core.uncertainty import (
    band,
    breakeven_band,
    draw,
    probability_cheapest,
)
from llm_tco.core.workload import Workload
from llm_tco.decide_result import BreakevenBand, InputRange, OptionBand, Percentiles, Simulation
from llm_tco.errors import ScenarioError
from llm_tco.evaluate import (
    CAPACITY_ERROR,
    Priced,
    PricedScenario,
    evaluate,
    price_options,
    sampled_self_hosted,
    utilisation,
)
from llm_tco.hybrid_eval import HybridCurve
from llm_tco.resolve import Inputs, Notes, Value, api_option, ops_items, resolve_workload
from llm_tco.result import Result
from llm_tco.scenario import OptionSpec, Scenario

__all__ = ["CAPACITY_ERROR", "Inputs", "SampledCosts", "sample_costs", "simulate"]

if TYPE_CHECKING:
    from llm_tco.capacity_factors import ErrorBand


@dataclass
class SampledCosts:
    """Per-sample monthly cost of each option and break-even of each self-hosted/API pair."""

    samples: int
    monthly_usd: dict[str, FloatArray]
    breakeven_tokens: dict[tuple[str, str], FloatArray]
    utilisation_mean: dict[str, FloatArray]
    held_at_point: list[str]
    curves: dict[str, CostCurve] = field(default_factory=dict)
    api_usd_per_token: dict[str, FloatArray] = field(default_factory=dict)
    # Per sample: can the option serve that sample's volume (and is its cost a finite number)?
    feasible: dict[str, NDArray[np.bool_]] = field(default_factory=dict)
    # Per sample: the crossing lies beyond what the fixed-cost option can serve (not counted as
    # a break-even in ``breakeven_tokens``, which holds NaN there).
    breakeven_beyond: dict[tuple[str, str], NDArray[np.bool_]] = field(default_factory=dict)
    # Each API and self-hosted option's line items, one value per sample or one for all of them
    # (they sum to its monthly cost).
    line_items: dict[str, dict[str, Value]] = field(default_factory=dict)
    # Each API option's monthly items per sample (its cost is api_usd_per_token x V + these).
    api_fixed_usd: dict[str, FloatArray] = field(default_factory=dict)


def net_of_api_fixed(own: CostCurve, api_fixed_usd: FloatArray) -> CostCurve:
    """``own`` less an API's fixed monthly cost: where it crosses the API's per-token line is
    where ``own`` crosses the API's whole cost (only the difference of the two matters)."""
    return replace(own, fixed_usd=own.fixed_usd - api_fixed_usd)


def _arr(value: Value, size: int) -> FloatArray:
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (size,)).astype(np.float64)


def _total(workload: Workload) -> Value:
    return cast(Value, workload.input_tokens_per_month + workload.output_tokens_per_month)


@dataclass
class SelfHostedSample:
    monthly_usd: FloatArray
    line_items: dict[str, Value]
    curve: CostCurve
    capacity_tokens_per_month: FloatArray  # inf when the GPU count follows the load
    utilisation_mean: FloatArray


def _self_hosted(
    option: OptionSpec,
    point: Priced,
    inputs: Inputs,
    workload: Workload,
    hours: float,
    catalog: Catalog,
    size: int,
) -> SelfHostedSample:
    """Line items, cost curve and capacity per sample: the point option re-read through
    ``inputs`` and priced by the same core functions as :func:`llm_tco.evaluate.evaluate`."""
    if option.provisioned is not None:
        from llm_tco import provisioned

        assert isinstance(point.core, SelfHostedOption)
        core = provisioned.sampled_provisioned(option, point.core, workload, hours, catalog, inputs)
        items = provisioned.line_items(core, workload)
    else:
        core = sampled_self_hosted(option, point, workload, hours, catalog, inputs)
        items = self_hosted_line_items(core, workload)
    curve = self_hosted_curve(core, workload)
    fixed = core.capacity_tokens_per_month(workload.peak_to_mean)
    if point.never_serves is not None:  # the model does not fit: it serves nothing
        capacity_month = np.zeros(size)
    else:  # inf when the GPU count follows the load (or its capacity is not known)
        capacity_month = _arr(math.inf if fixed is None else fixed, size)
    util = np.full(size, np.nan)
    replicas = replica_count(core, workload)
    if replicas is not None and core.capacity_tokens_per_second is not None:
        util = _arr(utilisation(core, workload, replicas)["utilisation_at_mean"], size)
    monthly = _arr(sum(items.values()), size)
    return SelfHostedSample(monthly, items, curve, capacity_month, util)


# --- the whole scenario -----------------------------------------------------------------------


def sample_costs(
    scenario: Scenario,
    draws: dict[str, FloatArray],
    catalog: Catalog | None = None,
    state: PricedScenario | None = None,
    options: Collection[str] | None = None,
    breakevens: bool = True,
) -> SampledCosts:
    """Per-sample costs for ``draws`` (arrays of equal length, keyed by input path);
    ``state``: the scenario already priced at its point values. ``options``: price only these
    (and the parts of a hybrid among them); ``breakevens``: False leaves the break-evens out
    (the tornado needs neither the other options nor the crossings)."""
    catalog = catalog or load_catalog()
    state = state or price_options(scenario, catalog)
    # Sweeps may reach zero volume or capacity: inf/nan there mark samples, not errors.
    with np.errstate(divide="ignore", invalid="ignore"):
        return _sample_costs(scenario, draws, catalog, state, options, breakevens)


def _with_parts(scenario: Scenario, names: Collection[str]) -> set[str]:
    """``names`` and the self-hosted and API options their hybrids route between."""
    wanted = set(names)
    for option in scenario.options:
        if option.name in wanted and option.hybrid is not None:
            wanted |= {option.hybrid.api, option.hybrid.self_hosted}
    return wanted


def _sample_costs(
    scenario: Scenario,
    draws: dict[str, FloatArray],
    catalog: Catalog,
    state: PricedScenario,
    options: Collection[str] | None = None,
    breakevens: bool = True,
) -> SampledCosts:
    priced = state.priced
    if options is not None:
        wanted = _with_parts(scenario, options)
        priced = [p for p in priced if p.result.name in wanted]
    size = len(next(iter(draws.values()))) if draws else 1
    inputs = Inputs(draws)
    hours = scenario.hours_per_month
    workload, _ = resolve_workload(scenario.workload, hours, inputs, from_logs=state.workload)
    specs = {o.name: o for o in scenario.options}
    monthly: dict[str, FloatArray] = {}
    api_per_token: dict[str, FloatArray] = {}
    own: dict[str, SelfHostedSample] = {}
    lines: dict[str, dict[str, Value]] = {}
    api_fixed: dict[str, FloatArray] = {}
    for p in priced:
        option = specs[p.result.name]
        if isinstance(p.core, ApiOption):
            assert option.api is not None and p.result.price is not None
            api = api_option(option, option.api, p.result.price, workload, inputs)
            items = cast(dict[str, Value], api_line_items(api, workload))
            per_token = set(items)
            fixed = ops_items(option.name, option.api, catalog, Notes(), inputs, kind="api")
            for name, amount in fixed.items:
                key = name if name not in per_token else f"{name}_monthly"
                items[key] = items.get(key, 0.0) + amount
            lines[option.name] = items
            monthly[option.name] = _arr(sum(items.values()), size)
            api_per_token[option.name] = _arr(api_usd_per_token(api, workload), size)
            api_fixed[option.name] = _arr(fixed.monthly_usd, size)
        elif isinstance(p.core, SelfHostedOption):
            sample = _self_hosted(option, p, inputs, workload, hours, catalog, size)
            own[option.name] = sample
            lines[option.name] = sample.line_items
            monthly[option.name] = sample.monthly_usd
    for p in priced:
        option = specs[p.result.name]
        if option.hybrid is not None:
            assert isinstance(p.curve, HybridCurve)
            assert p.curve.split is not None
            hybrid_fixed = ops_items(
                option.name, option.hybrid, catalog, Notes(), inputs, kind="hybrid"
            )
            monthly[option.name] = _hybrid(
                option.name,
                replace(
                    p.curve,
                    split=replace(
                        p.curve.split,
                        fixed_usd=_arr(hybrid_fixed.monthly_usd, size)[:, None],
                        api_fixed_usd=api_fixed[option.hybrid.api][:, None],
                    ),
                ),
                own[option.hybrid.self_hosted],
                api_per_token[option.hybrid.api],
                _total(workload),
                size,
                inputs,
            )
    volume = _arr(_total(workload), size)
    feasible = {}
    for p in priced:
        name = p.result.name
        can = np.isfinite(monthly[name])
        if name in own:
            can &= within_capacity(volume, own[name].capacity_tokens_per_month)
        elif p.never_serves is not None:  # e.g. an API that misses the latency target
            can &= False
        elif p.rate_limits is not None and p.capacity_tokens_per_month is not None:
            from llm_tco.rate_limits import sampled_capacity

            hours_drawn = inputs.get("hours_per_month", hours)
            limit = sampled_capacity(specs[name], p.rate_limits, workload, hours_drawn, inputs)
            can &= within_capacity(volume, limit)
        feasible[name] = can
    breakeven: dict[tuple[str, str], FloatArray] = {}
    beyond: dict[tuple[str, str], NDArray[np.bool_]] = {}
    for a in own if breakevens else ():
        for b in api_per_token:
            found = first_breakeven(net_of_api_fixed(own[a].curve, api_fixed[b]), api_per_token[b])
            past = np.isfinite(found) & ~within_capacity(found, own[a].capacity_tokens_per_month)
            breakeven[(a, b)] = np.where(past, np.nan, found)
            beyond[(a, b)] = past
    held = sorted(set(draws) - inputs.used - _workload_paths(draws))
    return SampledCosts(
        samples=size,
        monthly_usd={p.result.name: monthly[p.result.name] for p in priced},
        breakeven_tokens=breakeven,
        utilisation_mean={name: s.utilisation_mean for name, s in own.items()},
        held_at_point=held,
        curves={name: s.curve for name, s in own.items()},
        api_usd_per_token=api_per_token,
        api_fixed_usd=api_fixed,
        feasible=feasible,
        breakeven_beyond=beyond,
        line_items=lines,
    )


def _workload_paths(draws: dict[str, FloatArray]) -> set[str]:
    return {p for p in draws if p.startswith("workload.") or p == "hours_per_month"}


def _hybrid(
    name: str,
    curve: HybridCurve,
    own: SelfHostedSample,
    api_per_token: FloatArray,
    volume: Value,
    size: int,
    inputs: Inputs,
) -> FloatArray:
    """Per-sample hybrid cost (core.hybrid.split_cost) with sampled parts and routing settings:
    at its share, or at each sample's own cheapest share (exact, as the point optimum)."""
    assert curve.split is not None
    column = (slice(None), None)
    p = f"options[{name}].hybrid."
    fallback = inputs.get(p + "fallback_rate", curve.split.fallback_rate)
    routing = inputs.get(p + "routing_monthly", curve.split.routing_monthly_usd)
    split = replace(
        curve.split,
        own=own.curve.column(),
        api_usd_per_token=api_per_token[column],
        capacity_tokens_per_month=own.capacity_tokens_per_month[column],
        fallback_rate=_arr(fallback, size)[column],
        routing_monthly_usd=_arr(routing, size)[column],
    )
    volumes = _arr(volume, size)
    if curve.optimise:
        return optimal_shares(split, volumes, curve.upper_share).monthly_usd
    shares = _arr(inputs.get(p + "self_hosted_share", curve.share), size)
    result: FloatArray = split_cost(split, volumes[column], shares[column])[:, 0]
    return result


# --- summary ----------------------------------------------------------------------------------


def _capacity_error_draws(
    state: PricedScenario, catalog: Catalog, samples: int, seed: int | None
) -> dict[str, tuple[FloatArray, ErrorBand]]:
    """Per option whose capacity the capacity model gives: draws of the model's out-of-source
    error (measured / predicted), from its own seeded stream so other draws stay as they were."""
    from llm_tco.capacity_factors import error_band
    from llm_tco.catalog.loader import DATA_DIR

    out: dict[str, tuple[FloatArray, ErrorBand]] = {}
    for index, p in enumerate(state.priced):
        if not p.capacity_modelled:
            continue
        band = error_band(p.moe, catalog.data_dir or DATA_DIR)
        if band is None:
            continue
        rng = np.random.default_rng(None if seed is None else [seed, 1, index])
        probs = sorted(band.quantiles)
        ratios = [band.quantiles[q] for q in probs]
        # Inverse CDF of the stored quantiles, flat beyond the outermost (as ErrorBand.sample).
        values = np.interp(rng.uniform(0.0, 1.0, samples), probs, ratios)
        out[f"options[{p.result.name}].self_hosted.{CAPACITY_ERROR}"] = (values, band)
    return out


def _percentiles(values: FloatArray) -> Percentiles:
    b = band(values)
    return Percentiles(p10=b.p10, p50=b.p50, p90=b.p90, mean=b.mean)


def simulate(
    scenario: Scenario,
    samples: int,
    seed: int | None = None,
    catalog: Catalog | None = None,
    among: list[str] | None = None,
    state: PricedScenario | None = None,
    point: Result | None = None,
) -> Simulation:
    """P10/P50/P90 monthly cost per option, probability each is cheapest (among ``among``, by
    default all options, counting only the samples each can serve), break-even bands.

    ``state`` and ``point``: the scenario already priced and evaluated (to price once)."""
    if samples < 1:
        raise ScenarioError("samples must be at least 1", field="--samples")
    catalog = catalog or load_catalog()
    state = state or price_options(scenario, catalog)
    point = point or evaluate(scenario, catalog, volumes=[], state=state)
    distributions = dict(scenario.uncertain)
    draws = draw(distributions, samples, seed)
    modelled = _capacity_error_draws(state, catalog, samples, seed)
    draws.update({path: values for path, (values, _) in modelled.items()})
    if not draws:
        draws = {"hours_per_month": np.full(samples, scenario.hours_per_month)}
    sampled = sample_costs(scenario, draws, catalog, state)
    names = among or list(sampled.monthly_usd)
    cheapest = probability_cheapest(
        {n: sampled.monthly_usd[n] for n in names}, {n: sampled.feasible[n] for n in names}
    )
    options = []
    for result in point.options:
        util = sampled.utilisation_mean.get(result.name)
        util_p50 = (
            float(np.median(util)) if util is not None and np.all(np.isfinite(util)) else None
        )
        options.append(
            OptionBand(
                name=result.name,
                deterministic_usd=result.monthly_cost,
                monthly_usd=_percentiles(sampled.monthly_usd[result.name]),
                probability_cheapest=cheapest.get(result.name, 0.0),
                probability_can_serve=float(np.mean(sampled.feasible[result.name])),
                utilisation_mean_p50=util_p50,
            )
        )
    breakevens = []
    for row in point.breakeven:
        found = breakeven_band(sampled.breakeven_tokens[(row.option, row.versus)])
        breakevens.append(
            BreakevenBand(
                option=row.option,
                versus=row.versus,
                deterministic_tokens_per_month=row.tokens_per_month,
                tokens_per_month=None
                if found.band is None
                else Percentiles(
                    p10=found.band.p10, p50=found.band.p50, p90=found.band.p90, mean=found.band.mean
                ),
                share_never=found.share_never,
                share_cannot_serve=float(
                    np.mean(sampled.breakeven_beyond[(row.option, row.versus)])
                ),
            )
        )
    return Simulation(
        samples=samples,
        seed=seed,
        inputs=[
            InputRange(
                path=path,
                distribution=d.describe(),
                point=d.point,
                low=d.bounds[0],
                high=d.bounds[1],
            )
            for path, d in sorted(distributions.items())
        ]
        + [
            InputRange(
                path=path,
                distribution=band.describe(),
                point=1.0,
                low=band.ratio_at(0.1),
                high=band.ratio_at(0.9),
            )
            for path, (_, band) in sorted(modelled.items())
        ],
        options=options,
        breakeven=breakevens,
        held_at_point=[p for p in sampled.held_at_point if p in distributions],
    )
