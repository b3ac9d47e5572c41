"""Provisioned throughput: reserved API capacity in whole units, priced like GPU replicas.

A unit serves ``tokens_per_minute_per_unit`` input-equivalent tokens a minute (one output token
counts as ``output_token_weight`` input tokens; cache reads count only where the provider says
so). Units are bought in steps of ``unit_increment`` from ``min_units``; with ``units: auto``
the count covers the peak minute, otherwise it is fixed and the volume it carries is its
capacity. The option is the core's :class:`~llm_tco.core.costs.SelfHostedOption` with one
"replica" per step of units, so its cost curve, replica round-up, line items, break-even and
Monte Carlo are the self-hosted ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from llm_tco.catalog.loader import Catalog
from llm_tco.catalog.schema import ProvisionedRow
from llm_tco.core.api_limits import units_capacity_tokens_per_second
from llm_tco.core.costs import (
    SelfHostedOption,
    Value,
    replicas_needed,
    self_hosted_curve,
    self_hosted_line_items,
)
from llm_tco.core.units import format_tokens, format_usd, usd_per_mtok
from llm_tco.core.workload import Workload
from llm_tco.errors import LlmTcoError, ScenarioError
from llm_tco.resolve import Inputs, Notes, ops_items, point_inputs
from llm_tco.result import LineItem, OptionResult, ProvisionedInfo
from llm_tco.scenario import OptionSpec, ProvisionedSpec

if TYPE_CHECKING:
    from llm_tco.evaluate import Priced

HOURLY_TERMS = ("hourly", "hour", "no-commitment", "on-demand", "payg")


@dataclass(frozen=True)
class Terms:
    """The option's unit figures, each read through ``Inputs``."""

    tokens_per_minute_per_unit: Value
    output_token_weight: Value
    cached_input_counts: bool
    min_units: int
    unit_increment: int
    unit_monthly_usd: Value
    price_formula: str
    price_source: str
    source: str
    unit: str
    row: ProvisionedRow | None


def _row(option: OptionSpec, spec: ProvisionedSpec, catalog: Catalog) -> ProvisionedRow | None:
    if spec.offer is None:
        return None
    try:
        return catalog.provisioned_offer(spec.offer)
    except LlmTcoError as exc:
        exc.field = f"options[{option.name}].provisioned.offer"
        raise


def terms(
    option: OptionSpec,
    spec: ProvisionedSpec,
    catalog: Catalog,
    hours: float,
    inputs: Inputs | None = None,
) -> Terms:
    inputs = inputs or point_inputs()
    p = f"options[{option.name}].provisioned."
    row = _row(option, spec, catalog)
    tpm = spec.tokens_per_minute_per_unit
    if tpm is None:
        assert row is not None
        tpm = row.tokens_per_minute_per_unit
    weight = spec.output_token_weight
    if weight is None:
        weight = row.output_token_weight if row is not None else 1.0
    cached = spec.cached_input_counts
    if cached is None:
        cached = row.cached_input_counts if row is not None else True
    minimum = spec.min_units or (row.min_units if row is not None else 1)
    step = spec.unit_increment or (row.unit_increment if row is not None else 1)
    if minimum % step:
        raise ScenarioError(
            f"min_units {minimum} is not a whole number of unit_increment {step}",
            field=f"{p}min_units",
        )
    hourly, monthly = spec.unit_price_hourly, spec.unit_price_monthly
    price_source = "scenario"
    if hourly is None and monthly is None and row is not None:
        hourly_term = (spec.term or "").strip().lower() in HOURLY_TERMS
        if row.unit_price_monthly is not None and not hourly_term:
            monthly = row.unit_price_monthly
        else:
            hourly = row.unit_price_hourly
        if hourly is None and monthly is None:
            raise ScenarioError(
                f"the catalog has no published unit price for {row.id}",
                field=f"{p}unit_price_hourly",
                hint="give unit_price_hourly or unit_price_monthly (the provider's price page)",
            )
        price_source = f"{row.price_source} ({row.price_as_of})"
    if monthly is not None:
        unit_monthly = inputs.get(p + "unit_price_monthly", monthly)
        formula = f"{format_usd(monthly)}/unit-month"
    else:
        assert hourly is not None
        unit_monthly = inputs.get(p + "unit_price_hourly", hourly) * inputs.get(
            "hours_per_month", hours
        )
        formula = f"${hourly:g}/unit-hour x {hours:g} h"
    return Terms(
        tokens_per_minute_per_unit=inputs.get(p + "tokens_per_minute_per_unit", tpm),
        output_token_weight=inputs.get(p + "output_token_weight", weight),
        cached_input_counts=cached,
        min_units=minimum,
        unit_increment=step,
        unit_monthly_usd=unit_monthly,
        price_formula=formula,
        price_source=price_source,
        source=f"{row.source} ({row.as_of})" if row is not None else "scenario",
        unit=row.unit if row is not None else "unit",
        row=row,
    )


def core_option(
    option: OptionSpec,
    spec: ProvisionedSpec,
    figures: Terms,
    workload: Workload,
    hours: Value,
    catalog: Catalog,
    notes: Notes,
    inputs: Inputs,
) -> SelfHostedOption:
    """One "replica" per ``unit_increment`` units, at the units' price and throughput."""
    step = figures.unit_increment
    replicas = None
    if spec.units != "auto":
        if spec.units < figures.min_units or spec.units % step:
            raise ScenarioError(
                f"units must be at least {figures.min_units} and a multiple of {step}",
                field=f"options[{option.name}].provisioned.units",
                hint="or units: auto",
            )
        replicas = spec.units // step
    ops = ops_items(option.name, spec, catalog, notes, inputs, kind="provisioned")
    return SelfHostedOption(
        name=option.name,
        gpu_monthly_usd=figures.unit_monthly_usd,
        gpus_per_replica=step,
        replicas=replicas,
        capacity_tokens_per_second=units_capacity_tokens_per_second(
            figures.tokens_per_minute_per_unit,
            workload,
            figures.output_token_weight,
            figures.cached_input_counts,
            units=step,
        ),
        hours_per_month=hours,
        fixed_items=tuple(ops.items),
        retry_rate=inputs.get(f"options[{option.name}].retry_rate", option.retry_rate),
        acceptance_rate=option.acceptance_rate,
        min_replicas=figures.min_units // step,
    )


def line_items(core: SelfHostedOption, workload: Workload) -> dict[str, Value]:
    """The self-hosted line items, with the units' cost named ``units``."""
    items = self_hosted_line_items(core, workload)
    return {("units" if k == "gpus" else k): v for k, v in items.items()}


def price_provisioned(
    option: OptionSpec,
    spec: ProvisionedSpec,
    workload: Workload,
    hours: float,
    catalog: Catalog,
    notes: Notes,
) -> Priced:
    """The option priced at the scenario's volume."""
    from llm_tco.evaluate import Priced, _accepted

    inputs = point_inputs()
    figures = terms(option, spec, catalog, hours, inputs)
    ops = ops_items(option.name, spec, catalog, Notes(), inputs, kind="provisioned")
    core = core_option(option, spec, figures, workload, hours, catalog, notes, inputs)
    needed = replicas_needed(core, workload) or core.min_replicas
    replicas = core.replicas if core.replicas is not None else needed
    units = replicas * figures.unit_increment
    per_step = core.tokens_per_replica_month(workload.peak_to_mean)
    assert per_step is not None
    capacity = float(per_step) * replicas
    items = line_items(core, workload)
    lines = []
    for key, amount in items.items():
        if key in ops.lines:
            lines.append(ops.lines[key].model_copy(update={"monthly_usd": float(amount)}))
            continue
        lines.append(
            LineItem(
                name=key,
                monthly_usd=float(amount),
                formula=f"{units} {figures.unit}s x {figures.price_formula}",
                source=figures.price_source,
            )
        )
    monthly = float(sum(items.values()))
    peak_load = workload.total_tokens_per_month / capacity if capacity > 0 else float("inf")
    info = ProvisionedInfo(
        offer=spec.offer,
        provider=spec.provider or (figures.row.provider if figures.row else None),
        model=spec.model or (figures.row.models[0] if figures.row else None),
        unit=figures.unit,
        units=units,
        units_needed_at_peak=needed * figures.unit_increment,
        unit_monthly_usd=float(figures.unit_monthly_usd),
        tokens_per_minute_per_unit=float(figures.tokens_per_minute_per_unit),
        output_token_weight=float(figures.output_token_weight),
        cached_input_counts=figures.cached_input_counts,
        min_units=figures.min_units,
        unit_increment=figures.unit_increment,
        capacity_tokens_per_month=capacity,
        utilisation_at_peak=peak_load,
        source=figures.source,
        price_source=figures.price_source,
    )
    name = option.name
    fixed_capacity = None
    note = None
    if core.replicas is not None:
        fixed_capacity = capacity
        note = (
            f"beyond what its {units} {figures.unit}s carry at this peak "
            f"({format_tokens(capacity)} tokens/month); use units: auto or more units"
        )
        if needed > core.replicas:
            notes.warn(
                "capacity_exceeded",
                f"the peak minute needs {needed * figures.unit_increment} {figures.unit}s at "
                f"{format_tokens(float(figures.tokens_per_minute_per_unit))} input-equivalent "
                f"tokens/min each, but the option has {units}: it cannot carry this volume; use "
                "units: auto or more units",
                name,
            )
    result = OptionResult(
        name=name,
        kind="provisioned",
        label=f"provisioned {figures.unit}s",
        monthly_cost=monthly,
        cost_per_mtok=usd_per_mtok(monthly, workload.total_tokens_per_month),
        breakdown={line.name: line.monthly_usd for line in lines},
        line_items=lines,
        provisioned=info,
        **_accepted(monthly, option, workload),
    )
    return Priced(
        result=result,
        curve=self_hosted_curve(core, workload),
        capacity_tokens_per_month=fixed_capacity,
        core=core,
        capacity_note=note,
    )


def sampled_provisioned(
    option: OptionSpec,
    point: SelfHostedOption,
    workload: Workload,
    hours: float,
    catalog: Catalog,
    inputs: Inputs,
) -> SelfHostedOption:
    """The point option's core with every number read again through ``inputs``."""
    spec = option.provisioned
    assert spec is not None
    figures = terms(option, spec, catalog, hours, inputs)
    sampled = core_option(
        option,
        spec,
        figures,
        workload,
        inputs.get("hours_per_month", hours),
        catalog,
        Notes(),
        inputs,
    )
    return replace(
        point,
        **{
            k: getattr(sampled, k)
            for k in (
                "gpu_monthly_usd",
                "capacity_tokens_per_second",
                "hours_per_month",
                "fixed_items",
                "retry_rate",
            )
        },
    )
