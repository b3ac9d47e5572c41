"""Evaluate a scenario: resolve it against the catalog, cost every option, find break-evens.

``evaluate(scenario)`` returns a :class:`~llm_tco.result.Result`; every interface renders that.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from llm_tco.catalog.loader import Catalog, load_catalog
from llm_tco.catalog.schema import GpuSpec, ModelArch
from llm_tco.core import memory
from llm_tco.core import memory as mem  # the module, where a local name is "memory"
from llm_tco.core.breakeven import find_crossings, sweep_costs, verdicts
from llm_tco.core.costs import (
    ApiOption,
    CostCurve,
    FloatArray,
    SelfHostedOption,
    api_curve,
    api_line_items,
    replicas_needed,
    self_hosted_curve,
    self_hosted_line_items,
    within_capacity,
)
from llm_tco.core.fleetsize import FleetCapacity
from llm_tco.core.speculative import (
    Speculation,
    expected_tokens_per_step,
    speculative_capacity,
)
from llm_tco.core.tailsize import PercentileSlo, tail_capacity, tail_fleet
from llm_tco.core.units import SECONDS_PER_HOUR, format_tokens, format_usd, usd_per_mtok
from llm_tco.core.workload import Workload
from llm_tco.errors import LlmTcoError, ScenarioError
from llm_tco.resolve import (
    GpuPrice,
    Inputs,
    Notes,
    OpsItems,
    ResolvedApi,
    Value,
    fp8_support_note,
    gpu_price,
    ops_items,
    point_inputs,
    resolve_api,
    resolve_workload,
)
from llm_tco.result import (
    Breakeven,
    CrossingInfo,
    Deployment,
    LineItem,
    MemoryInfo,
    OptionResult,
    Result,
    SweepRow,
    ToServe,
    WorkloadInfo,
)
from llm_tco.scenario import OptionSpec, Scenario, SelfHostedSpec, SpeculativeSpec

# When a workload gives no request shape, the capacity model assumes 200 output tokens per
# request ("1K input + 200 output tokens each", seed "Open Source LLMs as Cost Floor").
DEFAULT_OUTPUT_TOKENS_PER_REQUEST = 200.0
DEFAULT_CONTEXT_TOKENS = 4096
LOW_UTILISATION = 0.6
# The input path under which the Monte Carlo draws the capacity model's out-of-source error
# (measured / predicted output tokens/s) for an option whose capacity the model gives.
CAPACITY_ERROR = (
    "capacity_model_error"  # "below 60% means you are overpaying for capacity" (same seed)
)
MAX_CROSSINGS_LISTED = 20

# One replica's capacity (total tokens/s) at (TTFT ms, TPOT ms, speculative acceptance rate);
# None for a setting: the scenario's own.
CapacityAt = Callable[[float | None, float | None, float | None], float | None]


@dataclass
class Priced:
    """One option, resolved and costed at the scenario's volume."""

    result: OptionResult
    curve: CostCurve
    capacity_tokens_per_month: float | None = None  # fixed deployments only
    core: ApiOption | SelfHostedOption | None = None  # the resolved core inputs
    never_serves: str | None = None  # why it serves no volume at all (e.g. the model does not fit)
    # Capacity from the capacity model (not stated, not measured): the Monte Carlo carries the
    # model's out-of-source error on it. ``moe``: the model is a mixture of experts.
    capacity_modelled: bool = False
    moe: bool = False
    # One replica's capacity (total tokens/s) at other settings (TTFT ms, TPOT ms, speculative
    # acceptance rate), from the same benchmark or capacity model; None when the scenario
    # states the capacity.
    capacity_at_slo: CapacityAt | None = None
    # The option as priced, when it differs from the scenario's (gpu/precision auto: the
    # explicit deployment the search chose), for every later pass that re-reads its spec.
    option: OptionSpec | None = None
    # Why a volume beyond ``capacity_tokens_per_month`` cannot be served, where the reason is not
    # a GPU count (an API's rate limits, reserved units); and an API's resolved rate limits.
    capacity_note: str | None = None
    rate_limits: Any = None


def serves(priced: Priced, volumes: FloatArray) -> tuple[NDArray[np.bool_], str | None]:
    """Which of ``volumes`` (tokens/month) the option can serve, and why not where it cannot."""
    volumes = np.asarray(volumes, dtype=np.float64)
    if priced.never_serves is not None:
        return np.zeros(volumes.shape, dtype=bool), priced.never_serves
    capacity = priced.capacity_tokens_per_month
    if capacity is None:
        return np.ones(volumes.shape, dtype=bool), None
    reason = priced.capacity_note or (
        f"beyond its capacity of {format_tokens(capacity)} tokens/month; use gpu_count: auto "
        "or more GPUs"
    )
    return within_capacity(volumes, capacity), reason


@dataclass
class PricedScenario:
    """Every option of a scenario priced at its volume, before the result is assembled."""

    workload: Workload
    workload_source: str
    priced: list[Priced]
    notes: Notes


def price_options(scenario: Scenario, catalog: Catalog) -> PricedScenario:
    """Resolve and cost every option at the scenario's volume (hybrids after their parts)."""
    notes = Notes()
    hours = scenario.hours_per_month
    workload, workload_source = resolve_workload(scenario.workload, hours)
    priced: list[Priced] = []
    for option in scenario.options:
        if option.api is not None:
            resolved = resolve_api(option, option.api, workload, catalog, notes)
            api = _price_api(option, resolved, workload)
            if option.api.rate_limits is not None:
                from llm_tco.rate_limits import check_rate_limits

                api.rate_limits, api.capacity_tokens_per_month, api.capacity_note = (
                    check_rate_limits(
                        option, option.api, resolved.price, workload, hours, catalog, notes
                    )
                )
            if option.api.ttft_ms is not None or option.api.tpot_ms is not None:
                from llm_tco.api_latency import check_latency

                api.never_serves = check_latency(scenario, option, option.api, notes)
            priced.append(api)
        elif option.provisioned is not None:
            from llm_tco.provisioned import price_provisioned

            spec = option.provisioned
            priced.append(price_provisioned(option, spec, workload, hours, catalog, notes))
        elif option.self_hosted is not None:
            priced.append(_price_own(scenario, option, workload, catalog, notes))
    if any(option.hybrid is not None for option in scenario.options):
        from llm_tco.hybrid_eval import price_hybrids

        priced = price_hybrids(scenario, priced, workload, notes, catalog)
    return PricedScenario(workload, workload_source, priced, notes)


def _price_own(
    scenario: Scenario, option: OptionSpec, workload: Workload, catalog: Catalog, notes: Notes
) -> Priced:
    """A self-hosted option; with ``gpu: auto`` / ``precision: auto`` / ``offer: cheapest`` the
    deployment search chooses first, and its choice is priced like any explicit deployment."""
    from llm_tco.plan.build import is_search

    assert option.self_hosted is not None
    if not is_search(option.self_hosted):
        hours = scenario.hours_per_month
        return _price_self_hosted(option, option.self_hosted, workload, hours, catalog, notes)
    from llm_tco.plan.auto import choose, chosen_note, describe

    option, plan = choose(scenario, option, catalog)
    assert option.self_hosted is not None and plan.cheapest is not None
    notes.assume(
        f"{option.name}: deployment",
        describe(plan.cheapest),
        f"deployment search over {plan.searched} candidates (llm-tco plan)",
    )
    priced = _price_self_hosted(
        option, option.self_hosted, workload, scenario.hours_per_month, catalog, notes
    )
    priced.result = priced.result.model_copy(update={"chosen_by_search": chosen_note(plan)})
    priced.option = option
    return priced


def evaluate(
    scenario: Scenario,
    catalog: Catalog | None = None,
    volumes: list[float] | None = None,
    state: PricedScenario | None = None,
    suggest: bool = False,
) -> Result:
    """Cost every option of ``scenario``; ``volumes`` overrides the scenario's sweep.

    ``suggest``: also list, for each self-hosted open model, the cheapest hosted API serving it
    and the cheapest feasible self-hosted deployment (``suggestions``, ``ways_to_serve``; not
    options). ``llm-tco evaluate``, the page and the reports ask for them; they cost one
    deployment search per self-hosted option.

    ``state`` is the scenario already priced by :func:`price_options` (as
    :func:`llm_tco.analyse.analyse` does, to price once); it is not changed.
    """
    catalog = catalog or load_catalog()
    hours = scenario.hours_per_month
    state = state or price_options(scenario, catalog)
    workload, workload_source, priced = state.workload, state.workload_source, state.priced
    notes = Notes(list(state.notes.warnings), list(state.notes.assumptions))
    sweep_volumes = volumes if volumes is not None else scenario.sweep
    if not sweep_volumes:
        sweep_volumes = default_sweep(workload.total_tokens_per_month)
    results = [_with_feasibility(p, notes) for p in priced]
    results = [
        _with_alternative(p, r, scenario, workload, catalog)
        for p, r in zip(priced, results, strict=True)
    ]
    # The cheapest option that can actually serve the workload; none when none can.
    candidates = [r for r in results if r.feasible]
    cheapest = min(candidates, key=lambda r: r.monthly_cost).name if candidates else None
    _check_utilisation(results, notes)
    suggested, ways = _suggestions(scenario, catalog, results) if suggest else ([], [])
    return Result(
        name=scenario.name,
        description=scenario.description,
        hours_per_month=hours,
        workload=_workload_info(workload, workload_source, hours),
        options=results,
        cheapest=cheapest,
        breakeven=_breakevens(priced, workload, notes),
        sweep=sweep_rows(priced, workload, np.asarray(sweep_volumes, dtype=np.float64)),
        warnings=notes.warnings,
        assumptions=notes.assumptions,
        suggestions=suggested,
        ways_to_serve=ways,
    )


def _suggestions(
    scenario: Scenario, catalog: Catalog, results: list[OptionResult]
) -> tuple[list[Any], list[Any]]:
    from llm_tco.plan.suggest import suggestions

    return suggestions(scenario, catalog, results)


INFEASIBLE_CODES = ("does_not_fit", "capacity_exceeded", "rate_limited", "latency_slo_missed")


def _with_feasibility(priced: Priced, notes: Notes) -> OptionResult:
    result = priced.result
    if not math.isfinite(result.monthly_cost):
        return result.model_copy(
            update={"feasible": False, "infeasible_reason": "its cost is not a finite number"}
        )
    for warning in notes.warnings:
        if warning.option == result.name and warning.code in INFEASIBLE_CODES:
            return result.model_copy(
                update={"feasible": False, "infeasible_reason": warning.message}
            )
    return result


def _with_alternative(
    priced: Priced, result: OptionResult, scenario: Scenario, workload: Workload, catalog: Catalog
) -> OptionResult:
    """Beside a fixed-size deployment that cannot serve: its cost with ``gpu_count: auto``."""
    spec = next(o for o in scenario.options if o.name == result.name)
    if result.feasible or spec.self_hosted is None or spec.self_hosted.gpu_count == "auto":
        return result
    auto_spec = spec.self_hosted.model_copy(update={"gpu_count": "auto", "gpus_per_replica": None})
    auto_option = spec.model_copy(update={"self_hosted": auto_spec})
    scratch = Notes()
    try:
        auto = _price_self_hosted(
            auto_option, auto_spec, workload, scenario.hours_per_month, catalog, scratch
        )
    except LlmTcoError:
        return result  # auto cannot size it either (no capacity known)
    if auto.never_serves is not None or auto.result.deployment is None:
        return result
    d = auto.result.deployment
    gpus = auto.result.gpus or 0
    note = (
        f"with gpu_count: auto ({d.replicas} replica(s) of {d.gpus_per_replica} x {d.gpu}"
        + (f", {d.redundancy_replicas} spare" if d.redundancy_replicas else "")
        + f") it would serve this volume for {format_usd(auto.result.monthly_cost)}/month"
    )
    alternative = ToServe(
        gpus=gpus,
        gpus_per_replica=d.gpus_per_replica,
        replicas=d.replicas,
        monthly_cost=auto.result.monthly_cost,
        cost_per_mtok=auto.result.cost_per_mtok,
        note=note,
    )
    return result.model_copy(update={"to_serve": alternative})


def default_sweep(total_tokens_per_month: float) -> list[float]:
    """Decades around the scenario's volume: V/100 ... V x 100 (or 1M ... 100B when V is 0)."""
    if total_tokens_per_month <= 0:
        return [10.0**k for k in range(6, 12)]
    return [total_tokens_per_month * 10.0**k for k in range(-2, 3)]


def _workload_info(workload: Workload, source: str, hours: float) -> WorkloadInfo:
    mean = workload.total_tokens_per_month / (hours * SECONDS_PER_HOUR)
    return WorkloadInfo(
        input_tokens_per_month=workload.input_tokens_per_month,
        output_tokens_per_month=workload.output_tokens_per_month,
        total_tokens_per_month=workload.total_tokens_per_month,
        requests_per_month=workload.requests_per_month,
        input_tokens_per_request=workload.input_tokens_per_request,
        output_tokens_per_request=workload.output_tokens_per_request,
        peak_to_mean=workload.peak_to_mean,
        cached_input_share=workload.cached_input_share,
        batch_share=workload.batch_share,
        mean_tokens_per_second=mean,
        peak_tokens_per_second=mean * workload.peak_to_mean,
        source=source,
    )


# --- API --------------------------------------------------------------------------------------


def _price_api(option: OptionSpec, resolved: ResolvedApi, workload: Workload) -> Priced:
    api = resolved.option
    items = api_line_items(api, workload)
    price = resolved.price
    cached = workload.input_tokens_per_month * workload.api_cached_input_share
    written = workload.input_tokens_per_month * api.cache_write_share
    uncached = workload.input_tokens_per_month - cached - written
    output = workload.output_tokens_per_month
    tier = "" if price.tier == "standard" else f" ({price.tier})"
    formulas = {
        "input": f"{format_tokens(uncached)} x ${price.input_per_mtok:g}/MTok{tier}",
        "cached_input": f"{format_tokens(cached)} x ${price.cached_input_per_mtok:g}/MTok"
        + (
            f" (prefix reuse {workload.prefix_reuse_share:.0%} of input)"
            if workload.prefix_reuse_share is not None
            else ""
        ),
        "output": f"{format_tokens(output)} x ${price.output_per_mtok:g}/MTok{tier}",
        "cache_write": f"{format_tokens(written)} written x ${api.cache_write_per_mtok:g}/MTok",
        "long_context": f"{api.long_context_share:.0%} of tokens over "
        f"{format_tokens(price.long_context_threshold_tokens or 200_000)} of prompt at "
        f"${api.long_input_per_mtok:g}/${api.long_output_per_mtok:g} per MTok in/out",
        "batch_discount": f"-{workload.batch_share:.0%} batch x {price.batch_discount:.0%} off",
        "retries": f"{api.retry_rate:.0%} of requests retried",
    }
    lines = [
        LineItem(name=k, monthly_usd=v, formula=formulas[k], source=price.source)
        for k, v in items.items()
        if v != 0 or k in ("input", "output")
    ]
    lines += _fixed_lines(resolved.fixed, set(items))
    fixed = float(resolved.fixed.monthly_usd)
    monthly = sum(items.values()) + fixed
    result = OptionResult(
        name=api.name,
        kind="api",
        label=resolved.label,
        monthly_cost=monthly,
        cost_per_mtok=usd_per_mtok(monthly, workload.total_tokens_per_month),
        breakdown={line.name: line.monthly_usd for line in lines},
        line_items=lines,
        price=price,
        **_accepted(monthly, option, workload),
    )
    curve = replace(api_curve(api, workload), fixed_usd=fixed)
    return Priced(result=result, curve=curve, core=api)


def _fixed_lines(fixed: OpsItems, taken: set[str]) -> list[LineItem]:
    """The monthly items' line items; a name already used by a per-token line gets a suffix."""
    out = []
    for name, line in fixed.lines.items():
        label = name if name not in taken else f"{name}_monthly"
        amount = float(sum(float(a) for n, a in fixed.items if n == name))
        out.append(line.model_copy(update={"name": label, "monthly_usd": amount}))
    return out


def _accepted(monthly: float, option: OptionSpec, workload: Workload) -> dict[str, Any]:
    accepted_share = option.acceptance_rate
    per_request = None
    if workload.requests_per_month:
        per_request = monthly / (workload.requests_per_month * accepted_share)
    per_mtok = usd_per_mtok(monthly, workload.total_tokens_per_month * accepted_share)
    return {
        "retry_rate": option.retry_rate,
        "acceptance_rate": accepted_share,
        "cost_per_accepted_request": per_request,
        "cost_per_accepted_mtok": per_mtok,
    }


# --- self-hosted ------------------------------------------------------------------------------


def _price_self_hosted(
    option: OptionSpec,
    spec: SelfHostedSpec,
    workload: Workload,
    hours: float,
    catalog: Catalog,
    notes: Notes,
) -> Priced:
    name = option.name
    field = f"options[{name}].self_hosted"
    gpu = _lookup(lambda: catalog.gpu(spec.gpu), f"{field}.gpu")
    arch = _lookup(lambda: catalog.model(spec.model), f"{field}.model") if spec.model else None
    note = fp8_support_note(gpu, spec.precision)
    if note:
        notes.warn("no_fp8", note, name)
    context = _context_tokens(spec, workload)
    min_fit = _min_gpus_to_fit(arch, gpu, spec, context, catalog)
    per_replica = _gpus_per_replica(spec, min_fit, name, notes)
    memory = _memory(arch, gpu, spec, per_replica, context, min_fit)
    never_serves = None
    if memory is not None and not memory.fits:
        moe_note = " (every expert resident)" if arch and arch.experts else ""
        need = f"at least {min_fit} x {gpu.id}" if min_fit else "more or larger GPUs"
        assert arch is not None
        plan = mem.plan_memory(arch, gpu, spec.precision, _kv_precision(spec), per_replica, context)
        needed = plan.weights_gb + plan.overhead_gb + plan.kv_gb_per_sequence
        digits = 1 if round(needed) <= round(plan.available_gb) else 0  # never "needs 80, has 80"
        never_serves = (
            f"{spec.model} at {spec.precision} needs {needed:.{digits}f} GB per replica "
            f"({plan.weights_gb:.{digits}f} GB weights{moe_note} + {plan.overhead_gb:.1f} GB "
            f"runtime overhead + {plan.kv_gb_per_sequence:.1f} GB KV cache for one "
            f"{context:,}-token sequence), more than the {plan.available_gb:.{digits}f} GB of "
            f"{per_replica} x {gpu.id}: use {need}, or a lower precision"
        )
        notes.warn("does_not_fit", never_serves, name)
    price, ops, numbers = self_hosted_numbers(option, spec, gpu, hours, catalog, notes)
    capacity, capacity_source = None, None
    if memory is None or memory.fits:  # a replica that cannot hold the model serves nothing
        capacity, capacity_source = _capacity(
            spec, arch, gpu, per_replica, workload, catalog, notes, name
        )
    replicas: int | None = None
    unused = 0
    if spec.gpu_count != "auto":
        replicas = max(1, spec.gpu_count // per_replica)
        unused = spec.gpu_count - replicas * per_replica
        if spec.gpu_count % per_replica:
            notes.warn(
                "idle_gpus",
                f"gpu_count {spec.gpu_count} is not a multiple of gpus_per_replica "
                f"{per_replica}: {spec.gpu_count % per_replica} GPU(s) are paid for but unused",
                name,
            )
    elif capacity is None:
        raise ScenarioError(
            "gpu_count auto needs the capacity of one replica",
            field=f"{field}.gpu_count",
            hint="give tokens_per_second_per_replica, a catalog model, or a fixed gpu_count",
        )
    core = SelfHostedOption(
        name=name,
        gpus_per_replica=per_replica,
        replicas=replicas,
        capacity_tokens_per_second=capacity,
        redundancy_replicas=1 if spec.redundancy == "n+1" else 0,
        unused_gpus=unused,
        acceptance_rate=option.acceptance_rate,
        min_replicas=spec.min_replicas,
        **numbers,
    )
    priced = _self_hosted_result(
        option, spec, core, gpu, arch, price, ops.lines, memory, capacity_source, workload, notes
    )
    priced.never_serves = never_serves
    priced.capacity_modelled = capacity is not None and not _states_capacity(spec)
    if capacity is not None and not _states_capacity(spec):

        def at_slo(
            ttft_ms: float | None, tpot_ms: float | None, acceptance: float | None = None
        ) -> float | None:
            update: dict[str, Any] = {"ttft_slo_ms": ttft_ms, "tpot_slo_ms": tpot_ms}
            if acceptance is not None and spec.speculative is not None:
                update["speculative"] = spec.speculative.model_copy(
                    update={"acceptance_rate": acceptance}
                )
            slos = spec.model_copy(update=update)
            found, _ = _capacity(slos, arch, gpu, per_replica, workload, catalog, Notes(), name)
            return found

        priced.capacity_at_slo = at_slo
    priced.moe = bool(arch and arch.experts)
    if capacity is not None and not _states_capacity(spec) and _percentile_slo(spec).has_percentile:
        means = spec.model_copy(update={"ttft_slo_percentile": None, "tpot_slo_percentile": None})
        as_means, _ = _capacity(means, arch, gpu, per_replica, workload, catalog, Notes(), name)
        _show_mean_latency_sizing(priced, spec, as_means, workload, notes)
    return priced


def self_hosted_numbers(
    option: OptionSpec,
    spec: SelfHostedSpec,
    gpu: GpuSpec,
    hours: float,
    catalog: Catalog,
    notes: Notes,
    inputs: Inputs | None = None,
) -> tuple[GpuPrice, OpsItems, dict[str, Any]]:
    """The deployment's prices and rates, read through ``inputs`` (floats without draws, arrays
    of samples with them): GPU price and power, ops items, variable cost, retries, hours."""
    inputs = inputs or point_inputs()
    p = f"options[{option.name}]."
    price = gpu_price(option.name, spec, gpu, hours, catalog, notes, inputs)
    ops = ops_items(option.name, spec, catalog, notes, inputs)
    numbers = {
        "gpu_monthly_usd": price.monthly_usd_per_gpu,
        "power_monthly_usd_per_gpu": price.power_monthly_usd_per_gpu,
        "fixed_items": tuple(ops.items),
        "variable_per_mtok": inputs.get(
            p + "self_hosted.variable_per_mtok", spec.variable_per_mtok
        ),
        "retry_rate": inputs.get(p + "retry_rate", option.retry_rate),
        "hours_per_month": inputs.get("hours_per_month", hours),
    }
    return price, ops, numbers


def sampled_self_hosted(
    option: OptionSpec,
    priced: Priced,
    workload: Workload,
    hours: float,
    catalog: Catalog,
    inputs: Inputs,
) -> SelfHostedOption:
    """The option's core inputs (``priced``: priced at the scenario's values) with every number
    read again through ``inputs``, by the same functions. A capacity the scenario states follows
    its sampled value; one from a benchmark or the capacity model is found again at each unique
    sampled pair of SLOs (rounded to ``SLO_DIGITS`` significant digits), times the capacity
    model's out-of-source error where that is drawn."""
    option = priced.option or option  # gpu/precision auto: the deployment the search chose
    spec = option.self_hosted
    assert spec is not None and isinstance(priced.core, SelfHostedOption)
    gpu = catalog.gpu(spec.gpu)
    _, _, numbers = self_hosted_numbers(option, spec, gpu, hours, catalog, Notes(), inputs)
    capacity = priced.core.capacity_tokens_per_second
    p = f"options[{option.name}].self_hosted."
    if capacity is not None:
        stated, _ = stated_capacity(spec, workload, option.name, inputs)
        if stated is not None:
            capacity = stated
        else:
            if priced.capacity_at_slo is not None and any(
                p + path in inputs.draws for path in CAPACITY_SETTINGS
            ):
                capacity = _capacity_over_settings(priced.capacity_at_slo, spec, p, inputs)
            capacity = capacity * inputs.get(p + CAPACITY_ERROR, 1.0)
    return replace(priced.core, capacity_tokens_per_second=capacity, **numbers)


# The deployment settings whose sampled values change one replica's capacity: found again by
# the benchmark or capacity model at each unique (quantised) sampled combination.
CAPACITY_SETTINGS = ("ttft_slo_ms", "tpot_slo_ms", "speculative.acceptance_rate")
# Sampled settings reach the benchmark or capacity model quantised to evenly spaced values
# across their sampled span: SLO_LEVELS for one or two sampled settings, fewer each for three,
# so that at most SLO_LEVELS**2 model runs are made.
SLO_LEVELS = 16


def _capacity_over_settings(
    at: CapacityAt,
    spec: SelfHostedSpec,
    p: str,
    inputs: Inputs,
) -> FloatArray:
    """One replica's capacity per sample of its SLOs and speculative acceptance rate: the
    benchmark or capacity model run once per unique (quantised) combination of sampled values;
    NaN where no load meets the SLO."""
    acceptance = spec.speculative.acceptance_rate if spec.speculative is not None else None
    given = (spec.ttft_slo_ms, spec.tpot_slo_ms, acceptance)
    values = [
        inputs.get(p + path, value) if value is not None or p + path in inputs.draws else None
        for path, value in zip(CAPACITY_SETTINGS, given, strict=True)
    ]
    size = max(np.size(v) if v is not None else 1 for v in values)
    sampled = sum(1 for v in values if v is not None and np.size(v) > 1)
    levels = SLO_LEVELS if sampled <= 2 else max(2, int(SLO_LEVELS ** (2 / sampled)))
    columns = [
        np.full(size, np.nan) if v is None else quantise(np.broadcast_to(v, size), levels)
        for v in values
    ]
    combos, back = np.unique(np.column_stack(columns), axis=0, return_inverse=True)
    found = [at(*(None if np.isnan(x) else float(x) for x in combo)) for combo in combos]
    capacity = np.array([np.nan if f is None else f for f in found], dtype=np.float64)
    result: FloatArray = capacity[np.ravel(back)]
    return result


def quantise(values: FloatArray, levels: int) -> FloatArray:
    """Each value moved to the nearest of ``levels`` evenly spaced points across the values'
    span. Values that take at most ``levels`` distinct values already (one value, a tornado's
    low and high ends) are unchanged: each is then found by the model exactly, as a point
    evaluation at that value finds it."""
    low, high = float(np.min(values)), float(np.max(values))
    if not high > low or np.unique(values).size <= levels:
        return np.asarray(values, dtype=np.float64)
    grid = np.linspace(low, high, levels)
    index = np.rint((values - low) / (high - low) * (levels - 1)).astype(np.int64)
    result: FloatArray = grid[index]
    return result


def _lookup(fetch: Any, field: str) -> Any:
    try:
        return fetch()
    except LlmTcoError as exc:
        exc.field = field
        raise


def _self_hosted_result(
    option: OptionSpec,
    spec: SelfHostedSpec,
    core: SelfHostedOption,
    gpu: GpuSpec,
    arch: ModelArch | None,
    price: GpuPrice,
    ops_lines: dict[str, LineItem],
    memory: MemoryInfo | None,
    capacity_source: str | None,
    workload: Workload,
    notes: Notes,
) -> Priced:
    name = option.name
    items = self_hosted_line_items(core, workload)
    needed = replicas_needed(core, workload)
    replicas = core.replicas if core.replicas is not None else (needed or 1)
    gpus = replicas * core.gpus_per_replica + core.unused_gpus
    per_gpu = format_usd(float(core.gpu_monthly_usd))
    lines = []
    for key, amount in items.items():
        if key in ops_lines:
            lines.append(ops_lines[key].model_copy(update={"monthly_usd": amount}))
            continue
        formula, source = {
            "gpus": (
                f"{gpus} GPU{'s' if gpus != 1 else ''} x {per_gpu}/month ({price.formula})",
                price.source,
            ),
            "power": (
                f"{gpus} GPUs x {format_usd(float(core.power_monthly_usd_per_gpu))}/month power",
                "scenario",
            ),
            "redundancy": (
                f"{core.redundancy_replicas} spare replica(s) of "
                f"{core.gpus_per_replica} GPUs (N+1)",
                "scenario",
            ),
            "variable": (
                f"{format_tokens(workload.total_tokens_per_month)} tokens x "
                f"${core.variable_per_mtok:g}/MTok",
                "scenario",
            ),
        }[key]
        lines.append(LineItem(name=key, monthly_usd=amount, formula=formula, source=source))
    monthly = float(sum(items.values()))
    deployment = Deployment(
        gpu=gpu.id,
        gpu_name=gpu.name,
        model=arch.id if arch else spec.model,
        precision=spec.precision,
        gpus_per_replica=core.gpus_per_replica,
        replicas=replicas,
        redundancy_replicas=core.redundancy_replicas,
        gpu_monthly_usd=core.gpu_monthly_usd,
        gpu_price_source=price.source,
        capacity_tokens_per_second_per_replica=core.capacity_tokens_per_second,
        capacity_source=capacity_source,
        capacity_tokens_per_month=core.capacity_tokens_per_month(workload.peak_to_mean, replicas),
        replicas_needed_at_peak=needed,
        **utilisation(core, workload, replicas),
    )
    if core.replicas is not None and needed is not None and needed > core.replicas:
        notes.warn(
            "capacity_exceeded",
            f"peak load needs {needed} replica(s) ({needed * core.gpus_per_replica} x {gpu.id}) "
            f"at {format_tokens(float(core.capacity_tokens_per_second or 0))} tokens/s each "
            f"({capacity_source}), but the deployment has {core.replicas} "
            f"({core.replicas * core.gpus_per_replica} GPUs): it cannot carry this volume; "
            "use gpu_count: auto or more GPUs",
            name,
        )
    result = OptionResult(
        name=name,
        kind="self_hosted",
        label="self-hosted",
        monthly_cost=monthly,
        cost_per_mtok=usd_per_mtok(monthly, workload.total_tokens_per_month),
        breakdown={line.name: line.monthly_usd for line in lines},
        line_items=lines,
        gpus=gpus + core.redundancy_replicas * core.gpus_per_replica,
        deployment=deployment,
        memory=memory,
        **_accepted(monthly, option, workload),
    )
    fixed_capacity = core.capacity_tokens_per_month(workload.peak_to_mean)
    if fixed_capacity is not None:
        fixed_capacity = float(fixed_capacity)
    return Priced(result, self_hosted_curve(core, workload), fixed_capacity, core=core)


def utilisation(core: SelfHostedOption, workload: Workload, replicas: Value) -> dict[str, Any]:
    """Mean and peak load over capacity (floats, or arrays of samples)."""
    if core.capacity_tokens_per_second is None:
        return {"utilisation_at_peak": None, "utilisation_at_mean": None}
    seconds = core.hours_per_month * SECONDS_PER_HOUR
    mean_rate = workload.total_tokens_per_month * (1 + core.retry_rate) / seconds
    capacity = core.capacity_tokens_per_second * replicas
    return {
        "utilisation_at_mean": mean_rate / capacity,
        "utilisation_at_peak": mean_rate * workload.peak_to_mean / capacity,
    }


def _context_tokens(spec: SelfHostedSpec, workload: Workload) -> int:
    if spec.context_tokens is not None:
        return spec.context_tokens
    per_request = workload.tokens_per_request
    return int(per_request) if per_request else DEFAULT_CONTEXT_TOKENS


def _gpus_per_replica(spec: SelfHostedSpec, min_fit: int | None, name: str, notes: Notes) -> int:
    if spec.gpus_per_replica is not None:
        return spec.gpus_per_replica
    if isinstance(spec.gpu_count, int):
        if min_fit is None or min_fit > spec.gpu_count:
            return spec.gpu_count
        # The fewest GPUs that hold the model, repeated: more replicas serve more traffic.
        per_replica = min_fit
        while spec.gpu_count % per_replica:
            per_replica += 1
        return per_replica
    return min_fit or 1


def _min_gpus_to_fit(
    arch: ModelArch | None, gpu: GpuSpec, spec: SelfHostedSpec, context: int, catalog: Catalog
) -> int | None:
    if arch is None:
        return None
    kv = _kv_precision(spec)
    # A pure function of two catalog rows and these values: kept per catalog.
    result: int | None = catalog.derived(
        ("min_gpus_to_fit", memory.min_gpus_to_fit, arch.id, gpu.id, spec.precision, kv, context),
        lambda: memory.min_gpus_to_fit(arch, gpu, spec.precision, kv, context_tokens=context),
    )
    return result


def _kv_precision(spec: SelfHostedSpec) -> str:
    if spec.kv_precision is not None:
        return spec.kv_precision
    return memory.default_kv_precision(spec.precision)


def _memory(
    arch: ModelArch | None,
    gpu: GpuSpec,
    spec: SelfHostedSpec,
    per_replica: int,
    context: int,
    min_fit: int | None,
) -> MemoryInfo | None:
    if arch is None:
        return None
    plan = memory.plan_memory(arch, gpu, spec.precision, _kv_precision(spec), per_replica, context)
    return MemoryInfo(
        weights_gb=plan.weights_gb,
        kv_cache_gb=plan.kv_cache_gb,
        overhead_gb=plan.overhead_gb,
        available_gb=plan.available_gb,
        fits=plan.fits,
        max_concurrent_sequences=plan.max_concurrent_sequences,
        context_tokens=context,
        min_gpus_to_fit=min_fit,
    )


def _capacity(
    spec: SelfHostedSpec,
    arch: ModelArch | None,
    gpu: GpuSpec,
    per_replica: int,
    workload: Workload,
    catalog: Catalog,
    notes: Notes,
    name: str,
) -> tuple[float | None, str | None]:
    """Total tokens/s (input + output) one replica serves at this workload's mix and SLO."""
    stated, source = stated_capacity(spec, workload, name, point_inputs())
    if _states_capacity(spec) and float(workload.prefill_skipped_share) > 0:
        notes.assume(
            f"{name}: prefix reuse",
            "the stated or measured capacity is used as given: it already holds whatever prefix "
            "reuse its measurement had",
            "workload.prefix_reuse_share",
        )
    if stated is not None:
        return float(stated), source
    if spec.bench_result is not None:
        return _bench_capacity(spec, workload, name)
    if arch is None:
        return None, None
    return _modelled_capacity(spec, arch, gpu, per_replica, workload, catalog, notes, name)


def stated_capacity(
    spec: SelfHostedSpec, workload: Workload, name: str, inputs: Inputs
) -> tuple[Value | None, str | None]:
    """The capacity the scenario states (total tokens/s per replica), read through ``inputs``;
    None when it states none."""
    p = f"options[{name}].self_hosted."
    if spec.tokens_per_second_per_replica is not None:
        total = inputs.get(p + "tokens_per_second_per_replica", spec.tokens_per_second_per_replica)
        return total, "scenario: tokens_per_second_per_replica"
    if spec.output_tokens_per_second_per_replica is not None:
        output_share = 1 - workload.input_share
        if np.ndim(output_share) == 0 and output_share <= 0:
            raise ScenarioError(
                "an output rate says nothing about a workload with no output tokens",
                field=f"{p}output_tokens_per_second_per_replica",
                hint="give tokens_per_second_per_replica",
            )
        rate = inputs.get(
            p + "output_tokens_per_second_per_replica", spec.output_tokens_per_second_per_replica
        )
        return rate / output_share, "scenario: output_tokens_per_second_per_replica / output share"
    return None, None


def _states_capacity(spec: SelfHostedSpec) -> bool:
    """Whether the scenario states or measured the capacity (else the capacity model gives it)."""
    return (
        spec.tokens_per_second_per_replica is not None
        or spec.output_tokens_per_second_per_replica is not None
        or spec.bench_result is not None
    )


def _request_shape(workload: Workload) -> tuple[float, float]:
    if workload.input_tokens_per_request and workload.output_tokens_per_request:
        return workload.input_tokens_per_request, workload.output_tokens_per_request
    output = DEFAULT_OUTPUT_TOKENS_PER_REQUEST
    share = workload.input_share
    if share >= 1:  # input only (e.g. embeddings): one output token per request
        return output, 1.0
    # A prompt has at least one token, even when a scenario counts output tokens only.
    return max(1.0, output * share / (1 - share)), output


def _bench_capacity(
    spec: SelfHostedSpec, workload: Workload, name: str
) -> tuple[float | None, str | None]:
    from llm_tco.bench import load_result

    assert spec.bench_result is not None
    bench = load_result(spec.bench_result)
    output_tps, input_tps, _ = bench.capacity_at_slo(spec.ttft_slo_ms, spec.tpot_slo_ms)
    total = output_tps + input_tps
    return total, f"measured: {spec.bench_result}"


def _modelled_capacity(
    spec: SelfHostedSpec,
    arch: ModelArch,
    gpu: GpuSpec,
    per_replica: int,
    workload: Workload,
    catalog: Catalog,
    notes: Notes,
    name: str,
) -> tuple[float | None, str | None]:
    from llm_tco.core import capacity as capacity_model

    shape = _model_shape(spec, arch, gpu, workload, catalog, notes, name)
    if shape is None:
        return None, None
    input_len, output_len, prefill_len, efficiency = shape
    if _percentile_slo(spec).has_percentile:
        found, source = _tail_capacity(
            spec, arch, gpu, per_replica, (prefill_len, output_len), efficiency
        )
        if found is None:
            return None, None
        served = max(1, round(prefill_len)) + max(1, round(output_len))
        return found / served * (input_len + output_len), source
    slo = capacity_model.Slo(tpot_ms=spec.tpot_slo_ms, ttft_ms=spec.ttft_slo_ms)
    capacity_fn: Any = capacity_model.replica_capacity
    extra: tuple[Any, ...] = ()
    if spec.speculative is not None:
        capacity_fn, extra = speculative_capacity, (speculation(spec.speculative, arch),)
    args = (spec.precision, _kv_precision(spec), per_replica, prefill_len, output_len, slo)
    # A pure function of its inputs, and arch and GPU are catalog rows: kept per catalog, so
    # the page's next edit (another volume, the same shape) does not run the model again.
    replica = catalog.derived(
        ("replica_capacity", capacity_fn, arch.id, gpu.id, *args, efficiency, *extra),
        lambda: capacity_fn(arch, gpu, *args[:5], slo, efficiency, *extra),
    )
    # Each request still serves all its input tokens; only the new ones were prefilled.
    total = replica.requests_per_second * (input_len + output_len)
    if not math.isfinite(total) or total <= 0:
        notes.warn("no_capacity", "the capacity model finds no load meeting the SLO", name)
        return None, None
    return total, replica.source


def _model_shape(
    spec: SelfHostedSpec,
    arch: ModelArch,
    gpu: GpuSpec,
    workload: Workload,
    catalog: Catalog,
    notes: Notes,
    name: str,
) -> tuple[float, float, float, Any] | None:
    """What the capacity model sizes: input and output tokens per request, the prompt tokens
    the engine computes (after prefix reuse) and the engine's efficiency factors (None, with a
    warning, when the catalog has none for the engine)."""
    from llm_tco.capacity_factors import catalog_efficiencies
    from llm_tco.core.capacity import select_efficiency

    input_len, output_len = _request_shape(workload)
    if not (workload.input_tokens_per_request and workload.output_tokens_per_request):
        notes.assume(
            f"{name}: request shape",
            f"{input_len:.0f} input + {output_len:.0f} output tokens per request",
            '200 output tokens per request as in "Open Source LLMs as Cost Floor: When Llama '
            "Wins\"; input from the workload's split",
        )
    moe = arch.experts is not None
    factors = catalog.derived(("efficiencies", moe), lambda: catalog_efficiencies(catalog, moe))
    efficiency = select_efficiency(factors, spec.engine, gpu.vendor)
    if efficiency is None:
        notes.warn("no_capacity", f"no efficiency factors for engine {spec.engine}", name)
        return None
    prefill_len = _prefill_tokens(spec, arch, input_len, output_len, workload, notes, name)
    return input_len, output_len, prefill_len, efficiency


def fleet_at_percentiles(
    option: OptionSpec,
    priced: Priced,
    workload: Workload,
    catalog: Catalog,
    peak_tokens_per_second: float,
) -> tuple[FleetCapacity, float] | None:
    """For an option sized at percentile targets by the capacity model: requests/s per replica
    by fleet size behind its ``routing`` (``tailsize.tail_fleet``, up to the fleet that
    carries ``peak_tokens_per_second``), and the tokens one request serves. None when its
    capacity is stated or measured, or no target has a percentile."""
    option = priced.option or option
    spec = option.self_hosted
    core = priced.core
    if spec is None or spec.model is None or not isinstance(core, SelfHostedOption):
        return None
    if not priced.capacity_modelled or not _percentile_slo(spec).has_percentile:
        return None
    arch, gpu = catalog.model(spec.model), catalog.gpu(spec.gpu)
    shape = _model_shape(spec, arch, gpu, workload, catalog, Notes(), option.name)
    if shape is None:
        return None
    input_len, output_len, prefill_len, efficiency = shape
    prompt, output = max(1, round(prefill_len)), max(1, round(output_len))
    served = input_len + output_len
    fleet = tail_fleet(
        arch,
        gpu,
        spec.precision,
        _kv_precision(spec),
        mem.plain_tp(core.gpus_per_replica),
        prompt,
        output,
        _percentile_slo(spec),
        efficiency,
        spec.routing,
        peak_tokens_per_second / served,
        speculation=speculation(spec.speculative, arch) if spec.speculative else None,
    )
    return fleet, served


def speculation(spec: SpeculativeSpec, arch: ModelArch) -> Speculation:
    """The scenario's speculative decoding with its defaults: 3 draft tokens at 0.05 of a target
    step for a draft model; 1 token at one layer's share for MTP (DeepSeek-V3 predicts one)."""
    mtp = spec.method == "mtp"
    return Speculation(
        acceptance_rate=spec.acceptance_rate,
        draft_tokens=spec.draft_tokens or (1 if mtp else 3),
        draft_cost_ratio=spec.draft_cost_ratio
        if spec.draft_cost_ratio is not None
        else (1 / arch.layers if mtp else 0.05),
        method=spec.method,
    )


def _prefill_tokens(
    spec: SelfHostedSpec,
    arch: ModelArch,
    input_len: float,
    output_len: float,
    workload: Workload,
    notes: Notes,
    name: str,
) -> float:
    """Prompt tokens a request makes the engine compute: with prefix caching, the share
    ``workload.prefix_reuse_share`` of its input comes from the cache and is not prefilled.

    The capacity model then sizes requests of the new tokens only (attention and KV over the
    new tokens, as when one shared prefix, a system prompt, serves every running sequence;
    optimistic where each conversation reuses its own history) and the replica still serves
    every input token. The reused prefix's KV stays resident in the prefix cache.
    """
    skipped = float(workload.prefill_skipped_share)
    if skipped <= 0:
        return input_len
    prefill = max(1.0, input_len * (1 - skipped))
    reused = input_len - prefill
    kv_gb = reused * mem.kv_bytes_per_token(arch, _kv_precision(spec)) / 1e9
    notes.assume(
        f"{name}: prefix reuse",
        f"{skipped:.0%} of each request's {input_len:,.0f} input tokens come from the prefix "
        f"cache: {prefill:,.0f} prefilled per request; the reused {reused:,.0f}-token prefix "
        f"holds {kv_gb:.2f} GB of KV in the cache (once, shared by the sequences using it)",
        "workload.prefix_reuse_share; prefix caching as in vLLM's automatic prefix caching "
        "(https://docs.vllm.ai/en/latest/design/prefix_caching.html)",
    )
    return prefill


def _percentile_slo(spec: SelfHostedSpec) -> PercentileSlo:
    return PercentileSlo(
        ttft_ms=spec.ttft_slo_ms,
        tpot_ms=spec.tpot_slo_ms,
        ttft_percentile=spec.ttft_slo_percentile,
        tpot_percentile=spec.tpot_slo_percentile,
        burstiness=spec.arrival_burstiness,
    )


def _tail_capacity(
    spec: SelfHostedSpec,
    arch: ModelArch,
    gpu: GpuSpec,
    per_replica: int,
    shape: tuple[float, float],
    efficiency: Any,
) -> tuple[float | None, str | None]:
    """Total tokens/s of a replica whose percentile targets the batching simulator checks."""
    input_len, output_len = round(shape[0]), max(1, round(shape[1]))
    slo = _percentile_slo(spec)
    spec_decoding = speculation(spec.speculative, arch) if spec.speculative else None
    found = tail_capacity(
        arch,
        gpu,
        spec.precision,
        _kv_precision(spec),
        mem.plain_tp(per_replica),
        max(1, input_len),
        output_len,
        slo,
        efficiency,
        speculation=spec_decoding,
    )
    total = found.requests_per_second * (input_len + output_len)
    if not math.isfinite(total) or total <= 0:
        return None, None
    arrivals = (
        "Poisson arrivals" if slo.burstiness == 1 else f"gamma arrivals, gap CV {slo.burstiness:g}"
    )
    decoding = ""
    if spec_decoding is not None:
        e = expected_tokens_per_step(spec_decoding.acceptance_rate, spec_decoding.draft_tokens)
        decoding = (
            f", speculative decoding ({spec_decoding.method}, {spec_decoding.draft_tokens} "
            f"draft tokens, acceptance {spec_decoding.acceptance_rate:g}: {e:.2f} tokens per "
            "step, Leviathan et al. 2023 eq. 1)"
        )
    return total, f"{efficiency.source}; {slo.describe()} simulated ({arrivals}{decoding})"


def _show_mean_latency_sizing(
    priced: Priced,
    spec: SelfHostedSpec,
    mean_capacity: float | None,
    workload: Workload,
    notes: Notes,
) -> None:
    """Beside the percentile sizing, the replicas the peak needs with every target a mean."""
    core, deployment = priced.core, priced.result.deployment
    if not isinstance(core, SelfHostedOption) or deployment is None or mean_capacity is None:
        return
    mean_needed = replicas_needed(replace(core, capacity_tokens_per_second=mean_capacity), workload)
    priced.result = priced.result.model_copy(
        update={
            "deployment": deployment.model_copy(
                update={"replicas_needed_mean_latency": mean_needed}
            )
        }
    )
    needed = deployment.replicas_needed_at_peak
    if needed is None or mean_needed is None:
        return
    per = core.gpus_per_replica
    notes.assume(
        f"{priced.result.name}: tail-latency sizing",
        f"{needed} replica(s) ({needed * per} GPUs) at the peak for "
        f"{_percentile_slo(spec).describe()}; {mean_needed} ({mean_needed * per} GPUs) if every "
        "target were read as a mean"
        + (
            f"; sized per replica, as if requests were spread at random (size-trace sizes the "
            f"fleet behind the {spec.routing} router, which can need fewer)"
            if spec.routing != "random"
            else ""
        ),
        "continuous-batching simulation over the capacity model's step times",
    )


# --- break-even and sweep ---------------------------------------------------------------------


def _breakevens(priced: list[Priced], workload: Workload, notes: Notes) -> list[Breakeven]:
    fixed = [p for p in priced if p.result.kind in ("self_hosted", "provisioned")]
    per_token = [p for p in priced if p.result.kind == "api"]
    rows = []
    for own in fixed:
        for api in per_token:
            rows.append(_breakeven(own, api, workload, notes))
    return rows


def _breakeven(own: Priced, api: Priced, workload: Workload, notes: Notes) -> Breakeven:
    """Where ``own`` becomes cheaper than ``api``: a break-even only where ``own`` can serve."""
    search = find_crossings(own.curve, api.curve, limit=MAX_CROSSINGS_LISTED)
    volumes = np.array([c.tokens_per_month for c in search.crossings], dtype=np.float64)
    can, reason = serves(own, volumes)
    crossings = [
        CrossingInfo(
            tokens_per_month=c.tokens_per_month,
            requests_per_month=workload.requests_for_tokens(c.tokens_per_month),
            cheaper_above=own.result.name if c.cheaper_above == "a" else api.result.name,
            feasible=bool(ok),
        )
        for c, ok in zip(search.crossings, can, strict=True)
    ]
    first = next((c for c in crossings if c.cheaper_above == own.result.name), None)
    crossing = first.tokens_per_month if first else None
    feasible = first is None or first.feasible
    volume = crossing if feasible else None
    note = _breakeven_note(own, api, search.total, crossing)
    if not feasible:
        assert crossing is not None
        if own.never_serves is not None:
            extra = (
                f"not a break-even: {own.result.name} cannot serve any volume as stated "
                f"({own.never_serves})"
            )
        else:
            assert own.capacity_tokens_per_month is not None
            extra = (
                f"not a break-even: the crossing at {format_tokens(crossing)} tokens/month is "
                f"beyond what {own.result.name} can serve "
                f"({format_tokens(own.capacity_tokens_per_month)}/month): more "
                f"{'units' if own.result.kind == 'provisioned' else 'GPUs'} would be "
                "needed before it is reached"
            )
            notes.warn("breakeven_beyond_capacity", extra, own.result.name)
        note += "; " + extra
        reason = extra
    return Breakeven(
        option=own.result.name,
        versus=api.result.name,
        tokens_per_month=volume,
        requests_per_month=workload.requests_for_tokens(volume) if volume else None,
        crossings=crossings,
        note=note,
        crossing_tokens_per_month=crossing,
        feasible=feasible,
        infeasible_reason=None if feasible else reason,
    )


def _breakeven_note(own: Priced, api: Priced, total: int, volume: float | None) -> str:
    a, b = own.result.name, api.result.name
    if volume is None:
        return f"{a} never becomes cheaper than {b}"
    text = f"{a} is cheaper than {b} above {format_tokens(volume)} tokens/month"
    capacity = own.capacity_tokens_per_month
    if capacity is not None and volume < capacity:
        # A fixed deployment is cheaper only until it is full: say where that is, so the
        # note does not read as "cheaper at every volume above" next to a "cannot serve".
        text += f", up to the {format_tokens(capacity)}/month it can serve as stated"
    if total > 1:
        listed = (
            f"; the first {MAX_CROSSINGS_LISTED} are listed" if total > MAX_CROSSINGS_LISTED else ""
        )
        text += (
            f" ({total} crossings: each replica step makes the lead change hands until the "
            f"per-token gap pays for a whole replica{listed})"
        )
    return text


def sweep_rows(priced: list[Priced], workload: Workload, volumes: FloatArray) -> list[SweepRow]:
    """Cost of every option at each volume, which can serve it, and the cheapest that can."""
    volumes = np.asarray(volumes, dtype=np.float64)
    curves = {p.result.name: p.curve for p in priced}
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        costs = sweep_costs(curves, volumes)
    can = {p.result.name: serves(p, volumes) for p in priced}
    feasible = {name: flags & np.isfinite(costs[name]) for name, (flags, _) in can.items()}
    cheapest, texts = verdicts(costs, feasible)
    rows = []
    for i, volume in enumerate(volumes.tolist()):
        over = [
            p.result.name
            for p in priced
            if p.capacity_tokens_per_month is not None and volume > p.capacity_tokens_per_month
        ]
        reasons = {
            name: (can[name][1] or "") if not can[name][0][i] else "its cost is not a finite number"
            for name in curves
            if not feasible[name][i]
        }
        rows.append(
            SweepRow(
                tokens_per_month=volume,
                requests_per_month=workload.requests_for_tokens(volume),
                costs={name: float(values[i]) for name, values in costs.items()},
                cheapest=cheapest[i],
                verdict=texts[i],
                over_capacity=over,
                feasible={name: bool(flags[i]) for name, flags in feasible.items()},
                infeasible_reasons=reasons,
            )
        )
    return rows


def _check_utilisation(results: list[OptionResult], notes: Notes) -> None:
    for result in results:
        deployment = result.deployment
        if deployment is None or deployment.utilisation_at_mean is None:
            continue
        if deployment.utilisation_at_mean < LOW_UTILISATION:
            notes.warn(
                "low_utilisation",
                f"GPUs are {deployment.utilisation_at_mean:.0%} busy on average: idle capacity "
                'is paid for (below 60% means overpaying, per "Open Source LLMs as Cost '
                'Floor: When Llama Wins")',
                result.name,
            )
