"""Monte Carlo over a scenario's ranges: per-sample costs and break-evens as numpy arrays.

The scenario is priced once at its point values (:func:`llm_tco.evaluate.price_options`); then
every sampled input is pushed through the same formulas as :mod:`llm_tco.resolve` and
:mod:`llm_tco.core.costs`, written once for arrays of samples (no Python loop over samples).
Inputs without a range keep the deterministic value, so with every range collapsed to a point
each sample equals the deterministic result to the last bit (a test checks this).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import NDArray

from llm_tco.catalog.loader import Catalog, load_catalog
from llm_tco.core.costs import (
    STEP_EPS,
    ApiOption,
    FloatArray,
    SelfHostedOption,
    api_line_items,
    api_usd_per_token,
    replicas_for,
)
from llm_tco.core.hybrid import Split, split_cost
from llm_tco.core.uncertainty import (
    CurveArrays,
    band,
    breakeven_band,
    draw,
    first_breakeven,
    probability_cheapest,
)
from llm_tco.core.units import MONTHS_PER_YEAR, SECONDS_PER_HOUR, TOKENS_PER_MTOK, WEEKS_PER_YEAR
from llm_tco.core.workload import Workload
from llm_tco.decide_result import BreakevenBand, InputRange, OptionBand, Percentiles, Simulation
from llm_tco.errors import ScenarioError
from llm_tco.evaluate import PricedScenario, evaluate, price_options
from llm_tco.hybrid_eval import HybridCurve
from llm_tco.result import Result
from llm_tco.scenario import OptionSpec, Scenario, SelfHostedSpec

if TYPE_CHECKING:
    from llm_tco.capacity_factors import ErrorBand

Value = float | FloatArray
# The input path under which the Monte Carlo draws the capacity model's out-of-source error
# (measured / predicted output tokens/s) for an option whose capacity the model gives.
CAPACITY_ERROR = "capacity_model_error"


@dataclass
class Inputs:
    """Sampled values by path; anything not sampled is its scenario value (a float)."""

    draws: dict[str, FloatArray]
    used: set[str] = field(default_factory=set)

    def get(self, path: str, value: float | None) -> Value:
        if path in self.draws:
            self.used.add(path)
            return self.draws[path]
        assert value is not None, path
        return value

    def any(self, *paths: str) -> bool:
        return any(p in self.draws for p in paths)


@dataclass
class SampledCosts:
    """Per-sample monthly cost of each option and break-even of each self-hosted/API pair."""

    samples: int
    monthly_usd: dict[str, FloatArray]
    breakeven_tokens: dict[tuple[str, str], FloatArray]
    utilisation_mean: dict[str, FloatArray]
    held_at_point: list[str]
    curves: dict[str, CurveArrays] = field(default_factory=dict)
    api_usd_per_token: dict[str, FloatArray] = field(default_factory=dict)
    # Per sample: can the option serve that sample's volume (and is its cost a finite number)?
    feasible: dict[str, NDArray[np.bool_]] = field(default_factory=dict)
    # Per sample: the crossing lies beyond what the fixed-cost option can serve (not counted as
    # a break-even in ``breakeven_tokens``, which holds NaN there).
    breakeven_beyond: dict[tuple[str, str], NDArray[np.bool_]] = field(default_factory=dict)
    # Each API and self-hosted option's line items, one value per sample or one for all of them
    # (they sum to its monthly cost).
    line_items: dict[str, dict[str, Value]] = field(default_factory=dict)


def _arr(value: Value, size: int) -> FloatArray:
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (size,)).astype(np.float64)


# --- workload ---------------------------------------------------------------------------------


def _arrays(point: Workload, **values: Any) -> Workload:
    """The workload with fields holding per-sample arrays: its formulas are plain arithmetic."""
    return replace(point, **values)


def _workload(scenario: Scenario, point: Workload, inputs: Inputs, hours: Value) -> Workload:
    """The workload with sampled volumes and shares (same formulas as resolve_workload)."""
    spec = scenario.workload
    w = "workload."
    shape: dict[str, Any] = {
        "peak_to_mean": inputs.get(w + "peak_to_mean", point.peak_to_mean),
        "cached_input_share": inputs.get(w + "cached_input_share", point.cached_input_share),
        "batch_share": inputs.get(w + "batch_share", point.batch_share),
    }
    days = hours / 24.0
    volume_paths = [
        w + n
        for n in (
            "input_tokens_per_month",
            "output_tokens_per_month",
            "tokens_per_month",
            "tokens_per_day",
            "input_share",
            "requests_per_month",
            "requests_per_day",
            "input_tokens_per_request",
            "output_tokens_per_request",
        )
    ]
    if not inputs.any(*volume_paths, "hours_per_month") or spec.from_logs is not None:
        return _arrays(point, **shape)
    if spec.input_tokens_per_month is not None or spec.output_tokens_per_month is not None:
        return _arrays(
            point,
            input_tokens_per_month=inputs.get(volume_paths[0], spec.input_tokens_per_month or 0.0),
            output_tokens_per_month=inputs.get(
                volume_paths[1], spec.output_tokens_per_month or 0.0
            ),
            **shape,
        )
    if spec.tokens_per_month is not None or spec.tokens_per_day is not None:
        share = inputs.get(w + "input_share", spec.input_share)
        if spec.tokens_per_month is not None:
            total = inputs.get(w + "tokens_per_month", spec.tokens_per_month)
        else:
            total = inputs.get(w + "tokens_per_day", spec.tokens_per_day) * days
        return _arrays(
            point,
            input_tokens_per_month=total * share,
            output_tokens_per_month=total * (1 - share),
            **shape,
        )
    if spec.requests_per_month is not None:
        requests = inputs.get(w + "requests_per_month", spec.requests_per_month)
    else:
        requests = inputs.get(w + "requests_per_day", spec.requests_per_day) * days
    per_in = inputs.get(w + "input_tokens_per_request", spec.input_tokens_per_request)
    per_out = inputs.get(w + "output_tokens_per_request", spec.output_tokens_per_request)
    return _arrays(
        point,
        input_tokens_per_month=requests * per_in,
        output_tokens_per_month=requests * per_out,
        requests_per_month=requests,
        input_tokens_per_request=per_in,
        output_tokens_per_request=per_out,
        **shape,
    )


def _total(workload: Workload) -> Value:
    return cast(Value, workload.input_tokens_per_month + workload.output_tokens_per_month)


# --- API --------------------------------------------------------------------------------------


def _api(option: OptionSpec, core: ApiOption, inputs: Inputs) -> ApiOption:
    spec = option.api
    assert spec is not None
    p = f"options[{option.name}]."
    price_in = inputs.get(p + "api.input_per_mtok", core.input_per_mtok)
    cached: Value = core.cached_input_per_mtok
    if inputs.any(p + "api.cached_input_per_mtok"):
        cached = inputs.get(p + "api.cached_input_per_mtok", None)
    elif spec.cached_input_discount is not None:
        discount = inputs.get(p + "api.cached_input_discount", spec.cached_input_discount)
        cached = price_in * (1 - discount)
    elif spec.cached_input_per_mtok is None and inputs.any(p + "api.input_per_mtok"):
        cached = price_in  # no cache price known: cached input billed at the input price
    values = {
        "input_per_mtok": price_in,
        "output_per_mtok": inputs.get(p + "api.output_per_mtok", core.output_per_mtok),
        "cached_input_per_mtok": cached,
        "batch_discount": inputs.get(p + "api.batch_discount", core.batch_discount),
        "retry_rate": inputs.get(p + "retry_rate", core.retry_rate),
    }
    # The cost formulas are plain arithmetic, so they broadcast over arrays of samples.
    return replace(core, **cast(dict[str, Any], values))


# --- self-hosted ------------------------------------------------------------------------------


@dataclass
class SelfHostedSample:
    monthly_usd: FloatArray
    line_items: dict[str, Value]
    curve: CurveArrays
    capacity_tokens_per_month: FloatArray  # inf when the GPU count follows the load
    utilisation_mean: FloatArray


def _gpu_monthly(
    option: OptionSpec, core: SelfHostedOption, inputs: Inputs, hours: Value, catalog: Catalog
) -> tuple[Value, Value]:
    """Per-GPU monthly price and power, as resolve.gpu_price, for sampled inputs."""
    spec = option.self_hosted
    assert spec is not None
    p = f"options[{option.name}].self_hosted."
    timed = inputs.any("hours_per_month")
    if spec.gpu_hourly_price is not None:
        if not (timed or inputs.any(p + "gpu_hourly_price")):
            return core.gpu_monthly_usd, core.power_monthly_usd_per_gpu
        return inputs.get(p + "gpu_hourly_price", spec.gpu_hourly_price) * hours, 0.0
    if spec.gpu_monthly_price is not None:
        return inputs.get(p + "gpu_monthly_price", spec.gpu_monthly_price), 0.0
    if spec.offer is not None:
        if not (timed or inputs.any(p + "usd_per_eur")):
            return core.gpu_monthly_usd, core.power_monthly_usd_per_gpu
        offer = catalog.offer(spec.offer, catalog.gpu(spec.gpu).id)
        per_gpu = offer.price / offer.gpu_count
        monthly = per_gpu * hours if offer.price_unit == "hour" else per_gpu * hours / 720.0
        if offer.currency == "EUR":
            default = spec.usd_per_eur or catalog.ops_default("usd_per_eur").value
            monthly = monthly * inputs.get(p + "usd_per_eur", default)
        return monthly, 0.0
    return _purchase(option, spec, core, inputs, hours, catalog)


def _purchase(
    option: OptionSpec,
    spec: SelfHostedSpec,
    core: SelfHostedOption,
    inputs: Inputs,
    hours: Value,
    catalog: Catalog,
) -> tuple[Value, Value]:
    purchase = spec.purchase
    assert purchase is not None
    p = f"options[{option.name}].self_hosted.purchase."
    names = (
        "price_per_gpu",
        "amortization_months",
        "usd_per_kwh",
        "pue",
        "watts_per_gpu",
        "hosting_monthly_per_gpu",
    )
    if not inputs.any("hours_per_month", *(p + n for n in names)):
        return core.gpu_monthly_usd, core.power_monthly_usd_per_gpu
    gpu = catalog.gpu(spec.gpu)
    price = inputs.get(p + "price_per_gpu", purchase.price_per_gpu or gpu.purchase_price_usd)
    monthly = price / inputs.get(p + "amortization_months", purchase.amortization_months)
    monthly = monthly + inputs.get(p + "hosting_monthly_per_gpu", purchase.hosting_monthly_per_gpu)
    watts = purchase.watts_per_gpu if purchase.watts_per_gpu is not None else gpu.tdp_w
    if purchase.usd_per_kwh is None or not watts:
        return monthly, 0.0
    power = (
        inputs.get(p + "watts_per_gpu", watts)
        / 1000
        * hours
        * inputs.get(p + "usd_per_kwh", purchase.usd_per_kwh)
        * inputs.get(p + "pue", purchase.pue or 1.0)
    )
    return monthly, power


def _annual(spec: SelfHostedSpec, inputs: Inputs, p: str, catalog: Catalog) -> Value:
    default = spec.engineer_annual_cost
    if default is None:
        default = catalog.ops_default("engineer_annual_cost_usd").value
    return inputs.get(p + "engineer_annual_cost", default)


def _fixed_items(
    option: OptionSpec, core: SelfHostedOption, inputs: Inputs, catalog: Catalog
) -> list[tuple[str, Value]]:
    """The ops line items in resolve.ops_items order, recomputed where an input is sampled."""
    spec = option.self_hosted
    assert spec is not None
    p = f"options[{option.name}].self_hosted."
    direct = {
        "ops": "ops_monthly",
        "observability": "observability_monthly",
        "storage": "storage_monthly",
        "networking": "networking_monthly",
        "load_balancing": "load_balancing_monthly",
    }
    items: list[tuple[str, Value]] = []
    for name, amount in core.fixed_items:
        value: Value = amount
        if name in direct and getattr(spec, direct[name]) is not None:
            value = inputs.get(p + direct[name], getattr(spec, direct[name]))
        elif name in spec.other_monthly:
            value = inputs.get(f"{p}other_monthly.{name}", spec.other_monthly[name])
        elif name == "engineering" and spec.engineer_fte is not None:
            fte = inputs.get(p + "engineer_fte", spec.engineer_fte)
            value = fte * _annual(spec, inputs, p, catalog) / MONTHS_PER_YEAR
        elif name == "engineering" and spec.engineering_hours_per_month is not None:
            rate = spec.engineer_hourly_rate
            if rate is None:
                rate = catalog.ops_default("engineer_hourly_rate_usd").value
            value = inputs.get(
                p + "engineering_hours_per_month", spec.engineering_hours_per_month
            ) * inputs.get(p + "engineer_hourly_rate", rate)
        elif name == "setup":
            months = inputs.get(p + "setup_amortization_months", spec.setup_amortization_months)
            if spec.setup_cost is not None:
                value = inputs.get(p + "setup_cost", spec.setup_cost) / months
            elif spec.setup_weeks is not None:
                weekly = _annual(spec, inputs, p, catalog) / WEEKS_PER_YEAR
                value = inputs.get(p + "setup_weeks", spec.setup_weeks) * weekly / months
        items.append((name, value))
    return items


def _capacity(
    option: OptionSpec, core: SelfHostedOption, inputs: Inputs, workload: Workload
) -> Value | None:
    spec = option.self_hosted
    assert spec is not None
    p = f"options[{option.name}].self_hosted."
    if spec.tokens_per_second_per_replica is not None:
        return inputs.get(p + "tokens_per_second_per_replica", spec.tokens_per_second_per_replica)
    if spec.output_tokens_per_second_per_replica is not None:
        share = workload.input_tokens_per_month / _total(workload)
        return inputs.get(
            p + "output_tokens_per_second_per_replica", spec.output_tokens_per_second_per_replica
        ) / (1 - share)
    if core.capacity_tokens_per_second is None:
        return None
    # Modelled capacity times the model's out-of-source error (measured / predicted), when drawn.
    return core.capacity_tokens_per_second * inputs.get(p + CAPACITY_ERROR, 1.0)


def _self_hosted(
    option: OptionSpec,
    core: SelfHostedOption,
    inputs: Inputs,
    workload: Workload,
    hours: Value,
    catalog: Catalog,
    size: int,
    never_serves: bool = False,
) -> SelfHostedSample:
    """Line items and cost curve per sample, as core.costs.self_hosted_line_items/_curve."""
    p = f"options[{option.name}]."
    gpu_monthly, power = _gpu_monthly(option, core, inputs, hours, catalog)
    retry = inputs.get(p + "retry_rate", core.retry_rate)
    variable = inputs.get(p + "self_hosted.variable_per_mtok", core.variable_per_mtok)
    capacity = _capacity(option, core, inputs, workload)
    fixed_items = _fixed_items(option, core, inputs, catalog)
    total = _total(workload)
    seconds = hours * SECONDS_PER_HOUR
    per_step: Value = math.inf
    if capacity is not None:
        per_step = capacity * seconds / (workload.peak_to_mean * (1.0 + retry))
    if core.replicas is not None:
        replicas: Value = float(core.replicas)
    else:
        replicas = replicas_for(total, per_step, core.min_replicas)
    gpus = replicas * core.gpus_per_replica
    replica_monthly = core.gpus_per_replica * (gpu_monthly + power)
    items: dict[str, Value] = {"gpus": gpus * gpu_monthly, "power": gpus * power}
    if core.redundancy_replicas:
        items["redundancy"] = core.redundancy_replicas * replica_monthly
    for name, amount in fixed_items:
        items[name] = items.get(name, 0.0) + amount
    items["variable"] = total * (1.0 + retry) * variable / TOKENS_PER_MTOK
    monthly = _arr(sum(items.values()), size)
    fixed = sum(amount for _, amount in fixed_items)
    per_token = variable * (1.0 + retry) / TOKENS_PER_MTOK
    spare = core.redundancy_replicas * replica_monthly
    if core.replicas is not None:
        curve = CurveArrays(
            _arr(fixed + core.replicas * replica_monthly + spare, size),
            _arr(per_token, size),
            np.zeros(size),
            np.full(size, math.inf),
        )
        capacity_month = _arr(per_step * core.replicas, size)
    else:
        curve = CurveArrays(
            _arr(fixed, size),
            _arr(per_token, size),
            _arr(replica_monthly, size),
            _arr(per_step, size),
            core.min_replicas,
            core.redundancy_replicas,
        )
        capacity_month = np.full(size, math.inf)
    if never_serves:  # the model does not fit: it serves nothing, whatever its GPU count
        capacity_month = np.zeros(size)
    util = np.full(size, np.nan)
    if capacity is not None:
        util = _arr(total * (1 + retry) / seconds / (capacity * replicas), size)
    return SelfHostedSample(monthly, items, curve, capacity_month, util)


# --- the whole scenario -----------------------------------------------------------------------


def sample_costs(
    scenario: Scenario,
    draws: dict[str, FloatArray],
    catalog: Catalog | None = None,
    state: PricedScenario | None = None,
) -> SampledCosts:
    """Per-sample costs for ``draws`` (arrays of equal length, keyed by input path);
    ``state``: the scenario already priced at its point values."""
    catalog = catalog or load_catalog()
    state = state or price_options(scenario, catalog)
    # Sweeps may reach zero volume or capacity: inf/nan there mark samples, not errors.
    with np.errstate(divide="ignore", invalid="ignore"):
        return _sample_costs(scenario, draws, catalog, state)


def _sample_costs(
    scenario: Scenario, draws: dict[str, FloatArray], catalog: Catalog, state: PricedScenario
) -> SampledCosts:
    priced = state.priced
    size = len(next(iter(draws.values()))) if draws else 1
    inputs = Inputs(draws)
    hours = inputs.get("hours_per_month", scenario.hours_per_month)
    workload = _workload(scenario, state.workload, inputs, hours)
    specs = {o.name: o for o in scenario.options}
    monthly: dict[str, FloatArray] = {}
    api_per_token: dict[str, FloatArray] = {}
    own: dict[str, SelfHostedSample] = {}
    lines: dict[str, dict[str, Value]] = {}
    for p in priced:
        option = specs[p.result.name]
        if isinstance(p.core, ApiOption):
            api = _api(option, p.core, inputs)
            items = api_line_items(api, workload)
            lines[option.name] = cast(dict[str, Value], items)
            monthly[option.name] = _arr(sum(items.values()), size)
            api_per_token[option.name] = _arr(api_usd_per_token(api, workload), size)
        elif isinstance(p.core, SelfHostedOption):
            sample = _self_hosted(
                option, p.core, inputs, workload, hours, catalog, size, p.never_serves is not None
            )
            own[option.name] = sample
            lines[option.name] = sample.line_items
            monthly[option.name] = sample.monthly_usd
    for p in priced:
        option = specs[p.result.name]
        if option.hybrid is not None:
            assert isinstance(p.curve, HybridCurve)
            monthly[option.name] = _hybrid(
                p.curve,
                own[option.hybrid.self_hosted],
                api_per_token[option.hybrid.api],
                _total(workload),
                size,
            )
    volume = _arr(_total(workload), size)
    feasible = {}
    for p in priced:
        name = p.result.name
        can = np.isfinite(monthly[name])
        if name in own:
            can &= volume <= own[name].capacity_tokens_per_month * (1 + STEP_EPS)
        feasible[name] = can
    breakeven: dict[tuple[str, str], FloatArray] = {}
    beyond: dict[tuple[str, str], NDArray[np.bool_]] = {}
    for a in own:
        for b in api_per_token:
            found = first_breakeven(own[a].curve, api_per_token[b])
            past = np.isfinite(found) & (found > own[a].capacity_tokens_per_month * (1 + STEP_EPS))
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
        feasible=feasible,
        breakeven_beyond=beyond,
        line_items=lines,
    )


def _workload_paths(draws: dict[str, FloatArray]) -> set[str]:
    return {p for p in draws if p.startswith("workload.") or p == "hours_per_month"}


def _hybrid(
    curve: HybridCurve, own: SelfHostedSample, api_per_token: FloatArray, volume: Value, size: int
) -> FloatArray:
    """Per-sample hybrid cost: at its share, or the least over a 1% grid and the point optimum."""
    assert curve.split is not None
    column = (slice(None), None)
    split = Split(
        own=CurveArrays(
            own.curve.fixed_usd[column],
            own.curve.usd_per_token[column],
            own.curve.step_usd[column],
            own.curve.tokens_per_step[column],
            own.curve.min_steps,
            own.curve.extra_steps,
        ),
        api_usd_per_token=api_per_token[column],
        capacity_tokens_per_month=own.capacity_tokens_per_month[column],
        fallback_rate=curve.split.fallback_rate,
        routing_monthly_usd=curve.split.routing_monthly_usd,
    )
    shares = np.array([curve.share])
    if curve.optimise:
        grid = np.round(np.arange(0, 101) / 100, 2)
        shares = np.unique(np.append(grid[grid <= curve.upper_share], curve.share))
    volumes = _arr(volume, size)[column]
    costs = split_cost(split, volumes, shares[None, :])
    result: FloatArray = costs.min(axis=1)
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
