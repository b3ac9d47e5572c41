"""Gather a scenario's numbers and answers, and ask the core which option to choose.

Also works out the capability tax's effect on each break-even and what each idle-cost choice
(autoscaling, scale-to-zero, spot, reserved, owned) saves over always-on replicas.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from llm_tco.catalog.loader import Catalog, load_catalog
from llm_tco.core import elasticity as el
from llm_tco.core import recommend as core
from llm_tco.core.breakeven import first_breakeven, verdicts
from llm_tco.core.units import SECONDS_PER_HOUR, format_tokens, format_usd
from llm_tco.decide_result import (
    IdleChoice,
    IdleReport,
    Reason,
    Recommendation,
    Simulation,
    TaxShift,
)
from llm_tco.errors import LlmTcoError
from llm_tco.evaluate import PricedScenario, evaluate, price_options
from llm_tco.result import Breakeven, OptionResult, Result
from llm_tco.scenario import OptionSpec, Scenario
from llm_tco.simulate import CAPACITY_ERROR, net_of_api_fixed, sample_costs, simulate


def _infeasible(result: Result, name: str) -> str | None:
    option = result.option(name)
    if option.feasible:
        return None
    return option.infeasible_reason or "it cannot serve this workload as stated"


def _breakeven_volume(result: Result, b: Breakeven) -> float | None:
    if b.feasible:
        return b.tokens_per_month
    return None if result.option(b.option).feasible else b.crossing_tokens_per_month


def _measured(scenario: Scenario, name: str) -> dict[str, Any]:
    """The acceptance rate's range and source, for options whose rate was measured."""
    spec = next((o for o in scenario.options if o.name == name), None)
    if spec is None or spec.acceptance_source is None:
        return {}
    dist = scenario.uncertain.get(f"options[{name}].acceptance_rate")
    bounds = (float(dist.bounds[0]), float(dist.bounds[1])) if dist is not None else None
    return {"acceptance_range": bounds, "acceptance_source": spec.acceptance_source}


def facts_for(scenario: Scenario, result: Result, simulation: Simulation | None) -> core.Facts:
    chance = {o.name: o.probability_cheapest for o in simulation.options} if simulation else {}
    options = []
    for o in result.options:
        options.append(
            core.OptionFacts(
                name=o.name,
                # Reserved API capacity asks nothing of GPU operations: weighed as an API.
                kind="api" if o.kind == "provisioned" else o.kind,
                monthly_usd=o.monthly_cost,
                acceptance_rate=o.acceptance_rate,
                open_weight=o.label.startswith("hosted open-weight"),
                utilisation_mean=o.deployment.utilisation_at_mean if o.deployment else None,
                infeasible=_infeasible(result, o.name),
                probability_cheapest=chance.get(o.name),
                **_measured(scenario, o.name),
            )
        )
    answers = None
    if scenario.decision is not None:
        d = scenario.decision
        answers = core.Answers(**{f: getattr(d, f) for f in core.Answers.__dataclass_fields__})
    return core.Facts(
        tokens_per_month=result.workload.total_tokens_per_month,
        hours_per_month=result.hours_per_month,
        peak_to_mean=result.workload.peak_to_mean,
        options=tuple(options),
        # A crossing the option cannot reach is no break-even; the core keeps it only as a
        # caveat about an option that cannot serve ("if it could serve as stated").
        breakevens=tuple(
            core.BreakevenFacts(b.option, b.versus, _breakeven_volume(result, b))
            for b in result.breakeven
        ),
        answers=answers,
        # A simulation cited as a reason only when something in it was uncertain (a range).
        samples=simulation.samples if simulation and simulation.inputs else None,
    )


def recommend(
    scenario: Scenario,
    samples: int = 0,
    seed: int | None = None,
    catalog: Catalog | None = None,
    state: PricedScenario | None = None,
    result: Result | None = None,
) -> Recommendation:
    """The option to choose and why. ``state`` and ``result``: the scenario already priced
    and evaluated (to price once)."""
    catalog = catalog or load_catalog()
    state = state or price_options(scenario, catalog)
    result = result or evaluate(scenario, catalog, volumes=[], state=state)
    feasible = [o.name for o in result.options if _infeasible(result, o.name) is None]
    simulation = None
    if samples:
        simulation = simulate(
            scenario, samples, seed, catalog, among=feasible or None, state=state, point=result
        )
    verdict = core.recommend(facts_for(scenario, result, simulation))
    taxes = capability_tax(scenario, result, catalog, state)
    reasons = [
        Reason(code=r.code, text=r.text, evidence=r.evidence, weight=r.weight)
        for r in verdict.reasons
    ]
    reasons += capacity_error_reasons(scenario, catalog, state)
    for tax in taxes:
        if tax.shift is not None and abs(tax.shift - 1) > 1e-9:
            reasons.append(
                Reason(
                    code="capability_tax_shift",
                    text=tax.explanation,
                    evidence=f"x{tax.shift:.2f}",
                    weight="caveat",
                )
            )
    return Recommendation(
        choose=verdict.choose.name,
        kind=verdict.choose.kind,
        summary=verdict.summary,
        reasons=reasons,
        six_questions_yes=verdict.six_yes,
        six_questions_answered=verdict.six_answered,
        five_cases=verdict.five_cases,
        capability_tax=taxes,
        idle=idle_reports(scenario, result, catalog),
        simulation=simulation,
    )


# --- the capacity model's own error -----------------------------------------------------------

# The ends of the out-of-source band swung to: 80% of published measurements fall between them.
ERROR_BAND_ENDS = (0.1, 0.9)


def capacity_error_reasons(
    scenario: Scenario, catalog: Catalog, state: PricedScenario
) -> list[Reason]:
    """A caveat for each option sized by the capacity model whose out-of-source error alone
    changes the cheapest option: its capacity is set to the low and the high end of the band
    (p10 and p90 of measured / predicted over sources the model was not fitted on), every other
    input held at its point, and each end priced as the Monte Carlo prices a sample
    (``sample_costs``). Where the two ends name different cheapest options, the verdict turns on
    a figure only a measurement on the hardware can pin down."""
    from llm_tco.capacity_factors import error_band
    from llm_tco.catalog.loader import DATA_DIR

    reasons = []
    for p in state.priced:
        if not p.capacity_modelled:
            continue
        band = error_band(p.moe, catalog.data_dir or DATA_DIR)
        if band is None:
            continue
        ends = [band.ratio_at(q) for q in ERROR_BAND_ENDS]
        path = f"options[{p.result.name}].self_hosted.{CAPACITY_ERROR}"
        sampled = sample_costs(scenario, {path: np.array(ends)}, catalog, state, breakevens=False)
        # The sweep's own ranking: the cheapest option that can serve, per end.
        ranked, _ = verdicts(sampled.monthly_usd, sampled.feasible)
        cheapest = [name or "no option" for name in ranked]
        if cheapest[0] == cheapest[1]:
            continue
        reasons.append(
            Reason(
                code="capacity_model_error",
                text=(
                    f"the cheapest option turns on the capacity model's own error for "
                    f"{p.result.name}: with its capacity at the low end of the model's "
                    f"out-of-source band (x{ends[0]:.2f}) {cheapest[0]} is cheapest, at the "
                    f"high end (x{ends[1]:.2f}) {cheapest[1]}; a pilot on the hardware "
                    "(`llm-tco bench`, then `llm-tco calibrate`) would settle it"
                ),
                evidence=f"capacity model error: {band.describe()}",
                weight="caveat",
            )
        )
    return reasons


# --- capability tax ---------------------------------------------------------------------------


def capability_tax(
    scenario: Scenario, result: Result, catalog: Catalog, state: PricedScenario | None = None
) -> list[TaxShift]:
    """Break-even of each self-hosted/API pair with the stated retries, without any, and per
    accepted output: the same pricing with the retry rates set to zero."""
    options = {o.name: o for o in scenario.options}

    def taxed_pair(own: OptionSpec, api: OptionSpec) -> bool:
        return bool(
            own.retry_rate or api.retry_rate or own.acceptance_rate < 1 or api.acceptance_rate < 1
        )

    # Pairs without a capability tax stated have no row: price nothing for them.
    pairs = [b for b in result.breakeven if taxed_pair(options[b.option], options[b.versus])]
    if not pairs:
        return []
    state = state or price_options(scenario, catalog)
    no_retry = {f"options[{name}].retry_rate": np.zeros(1) for name in options}
    bare = sample_costs(scenario, no_retry, catalog, state)
    taxed = sample_costs(scenario, {}, catalog, state)
    rows = []
    for b in pairs:
        own, api = options[b.option], options[b.versus]
        before = _finite(bare.breakeven_tokens[(b.option, b.versus)][0])
        after = b.tokens_per_month
        scale = api.acceptance_rate / own.acceptance_rate
        curve = taxed.curves[b.option]
        scaled = curve.scaled(scale)
        scaled = net_of_api_fixed(scaled, taxed.api_fixed_usd[b.versus])
        accepted = _finite(first_breakeven(scaled, taxed.api_usd_per_token[b.versus])[0])
        final = accepted if accepted is not None or scale != 1 else after
        shift = final / before if final is not None and before else None
        rows.append(
            TaxShift(
                option=b.option,
                versus=b.versus,
                without_tax_tokens_per_month=before,
                with_tax_tokens_per_month=after,
                accepted_with_tax_tokens_per_month=accepted,
                shift=shift,
                explanation=_tax_text(own, api, result, before, after, accepted),
            )
        )
    return rows


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _vol(value: float | None) -> str:
    return "never" if value is None else format_tokens(value)


def _tax_text(
    own: OptionSpec,
    api: OptionSpec,
    result: Result,
    before: float | None,
    after: float | None,
    accepted: float | None,
) -> str:
    own_result = result.option(own.name)
    variable = own_result.breakdown.get("variable", 0.0)
    parts = [
        f"{own.name} vs {api.name}: break-even {_vol(before)} tokens/month without "
        f"retries, {_vol(after)} with them (API retry {api.retry_rate:.0%}, self-hosted "
        f"retry {own.retry_rate:.0%})"
    ]
    if (
        own.retry_rate
        and not variable
        and own_result.deployment is not None
        and own_result.deployment.replicas_needed_at_peak is None
    ):
        parts.append(
            "self-hosted retries cost nothing extra here: the GPU count is fixed and "
            "there is no per-token cost, so only capacity could bind"
        )
    elif own.retry_rate:
        parts.append(
            f"self-hosted retries add variable cost ({format_usd(variable)}/month in "
            "total) and use capacity"
        )
    if accepted is not None or own.acceptance_rate != api.acceptance_rate:
        parts.append(
            f"per accepted output ({own.acceptance_rate:.0%} vs "
            f"{api.acceptance_rate:.0%} accepted) it is {_vol(accepted)}"
        )
    if before and (accepted or after):
        ratio = (accepted or after or 0) / before
        parts.append(f"a x{ratio:.2f} shift, against the seed's rule-of-thumb x1.3-1.4")
    return "; ".join(parts)


# --- idle and elasticity ----------------------------------------------------------------------


def idle_reports(scenario: Scenario, result: Result, catalog: Catalog) -> list[IdleReport]:
    reports = []
    for option in scenario.options:
        if option.self_hosted is None:
            continue
        report = _idle(option, result.option(option.name), scenario, result, catalog)
        if report is not None:
            reports.append(report)
    return reports


def _idle(
    option: OptionSpec,
    priced: OptionResult,
    scenario: Scenario,
    result: Result,
    catalog: Catalog,
) -> IdleReport | None:
    d = priced.deployment
    spec, scaling = option.self_hosted, option.scaling
    if d is None or spec is None:
        return None
    hours = result.hours_per_month
    mean = (
        result.workload.total_tokens_per_month
        * (1 + option.retry_rate)
        / (hours * SECONDS_PER_HOUR)
    )
    fleet = el.Fleet(
        replica_hourly_usd=d.gpus_per_replica * d.gpu_monthly_usd / hours,
        capacity_tokens_per_second=d.capacity_tokens_per_second_per_replica,
        mean_tokens_per_second=mean,
        hours_per_month=hours,
        current_replicas=d.replicas,
        min_replicas=spec.min_replicas,
        max_replicas=scaling.max_replicas if scaling else None,
    )
    base = el.always_on(fleet)
    choices = [base]
    profile = scenario.workload.hourly_profile
    if profile and fleet.capacity_tokens_per_second:
        peak = el.peak_replicas(fleet, profile, result.workload.peak_to_mean) or d.replicas
        base = el.always_on(replace(fleet, current_replicas=peak))
        choices = [base, el.autoscaled(fleet, profile)]
        if scaling and scaling.scale_to_zero and scaling.cold_start_minutes is not None:
            choices.append(el.autoscaled(fleet, profile, True, scaling.cold_start_minutes))
    spot = scaling.spot_discount if scaling and scaling.spot_discount is not None else None
    if spot is None:
        try:
            spot = catalog.ops_default("spot_discount").value
        except LlmTcoError:
            spot = None
    if spot is not None:
        choices.append(
            el.discounted(
                base,
                "spot",
                spot,
                '(interruptions; "unsuitable for production inference" in "Open Source vs API: '
                'Break-Even Analysis for Common LLM Workloads")',
            )
        )
    if scaling and scaling.reserved_discount is not None:
        choices.append(el.discounted(base, "reserved", scaling.reserved_discount, ""))
    gpu = catalog.gpu(d.gpu)
    price = scaling.owned_price_per_gpu if scaling and scaling.owned_price_per_gpu else None
    price = price or gpu.purchase_price_usd
    if price:
        months = scaling.owned_amortization_months if scaling else 36.0
        choices.append(
            el.owned(
                replace(fleet, current_replicas=base_replicas(base, fleet)),
                d.gpus_per_replica,
                price,
                months,
                _power(gpu.tdp_w, hours, catalog),
            )
        )
    return IdleReport(
        option=option.name,
        choices=[
            IdleChoice(
                choice=c.name,
                monthly_usd=c.monthly_usd,
                saving_vs_always_on_usd=base.monthly_usd - c.monthly_usd,
                how=c.how,
            )
            for c in choices
        ],
    )


def base_replicas(base: el.Choice, fleet: el.Fleet) -> int:
    return round(base.monthly_usd / (fleet.replica_hourly_usd * fleet.hours_per_month))


def _power(watts: float | None, hours: float, catalog: Catalog) -> float:
    """Monthly electricity per owned GPU: TDP x hours x price x PUE (catalog defaults)."""
    if not watts:
        return 0.0
    try:
        price = catalog.ops_default("electricity_usd_per_kwh").value
        pue = catalog.ops_default("pue").value
    except LlmTcoError:
        return 0.0
    return watts / 1000 * hours * price * pue
