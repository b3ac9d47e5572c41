"""Scenario fields + catalog -> the core's typed inputs, with formulas and sources for each number.

This is the only place scenario fields meet catalog rows. Anything it had to assume or found
suspicious becomes a Warning or an Assumption in the result.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from llm_tco.catalog.loader import Catalog, normalise_name
from llm_tco.catalog.schema import GpuSpec, ModelArch
from llm_tco.core.costs import ApiOption, SelfHostedOption
from llm_tco.core.units import (
    DEFAULT_HOURS_PER_MONTH,
    MONTHS_PER_YEAR,
    WEEKS_PER_YEAR,
    format_usd,
)
from llm_tco.core.workload import Workload
from llm_tco.errors import LlmTcoError, ScenarioError
from llm_tco.result import ApiPriceInfo, Assumption, LineItem, Warning
from llm_tco.scenario import ApiSpec, MonthlyItems, OptionSpec, SelfHostedSpec, WorkloadSpec

Value = float | NDArray[np.float64]

STALE_PRICE_DAYS = 365
PRICE_TOLERANCE = 0.005  # explicit prices within 0.5% of the catalog's count as the same


@dataclass
class Notes:
    """Warnings and assumptions gathered while resolving."""

    warnings: list[Warning] = field(default_factory=list)
    assumptions: list[Assumption] = field(default_factory=list)

    def warn(self, code: str, message: str, option: str | None = None) -> None:
        self.warnings.append(Warning(code=code, message=message, option=option))

    def assume(self, name: str, value: str, source: str, as_of: dt.date | None = None) -> None:
        self.assumptions.append(Assumption(name=name, value=value, source=source, as_of=as_of))


# --- inputs -----------------------------------------------------------------------------------


@dataclass
class Inputs:
    """Every numeric scenario input is read through here, by its path
    (``options[llama].self_hosted.gpu_hourly_price``): a path with draws gives its array of
    samples, any other its scenario value. With no draws every value is the scenario's float, so
    the deterministic evaluation and the Monte Carlo are the same formulas with other inputs."""

    draws: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)

    def get(self, path: str, value: Value | None) -> Value:
        if path in self.draws:
            self.used.add(path)
            return self.draws[path]
        assert value is not None, path
        return value


def point_inputs() -> Inputs:
    """The scenario's own values: no draws."""
    return Inputs()


def _workload(**fields: Any) -> Workload:
    """A workload whose fields are floats, or arrays of samples (its formulas are arithmetic)."""
    return Workload(**fields)


# --- workload ---------------------------------------------------------------------------------


def resolve_workload(
    spec: WorkloadSpec,
    hours_per_month: float,
    inputs: Inputs | None = None,
    from_logs: Workload | None = None,
) -> tuple[Workload, str]:
    """The monthly workload and a sentence saying how it was derived.

    ``from_logs``: the workload already read from the scenario's logs (not read again)."""
    inputs = inputs or point_inputs()
    w = "workload."
    days = inputs.get("hours_per_month", hours_per_month) / 24.0
    point_days = hours_per_month / 24.0

    def shape(peak: float, cached: float, batch: float) -> dict[str, Value]:
        return {
            "peak_to_mean": inputs.get(w + "peak_to_mean", peak),
            "cached_input_share": inputs.get(w + "cached_input_share", cached),
            "batch_share": inputs.get(w + "batch_share", batch),
        }

    if spec.from_logs is not None and spec.input_tokens_per_month is None and not _has_volume(spec):
        if from_logs is not None:
            logs, how = from_logs, f"derived from logs {spec.from_logs}"
        else:
            logs, how = _workload_from_logs(spec, hours_per_month)
        values = shape(logs.peak_to_mean, logs.cached_input_share, logs.batch_share)
        if spec.prefix_reuse_share is not None:
            values["prefix_reuse_share"] = spec.prefix_reuse_share
        return replace(logs, **cast(dict[str, Any], values)), how
    fields: dict[str, Any] = {
        **shape(spec.peak_to_mean, spec.cached_input_share, spec.batch_share),
        "prefix_reuse_share": spec.prefix_reuse_share,
    }
    if spec.input_tokens_per_month is not None or spec.output_tokens_per_month is not None:
        workload = _workload(
            input_tokens_per_month=inputs.get(
                w + "input_tokens_per_month", spec.input_tokens_per_month or 0.0
            ),
            output_tokens_per_month=inputs.get(
                w + "output_tokens_per_month", spec.output_tokens_per_month or 0.0
            ),
            **fields,
        )
        return workload, "input and output tokens per month as given"
    if spec.tokens_per_month is not None or spec.tokens_per_day is not None:
        assert spec.input_share is not None
        share = inputs.get(w + "input_share", spec.input_share)
        if spec.tokens_per_month is not None:
            total = inputs.get(w + "tokens_per_month", spec.tokens_per_month)
            how = "tokens per month"
        else:
            assert spec.tokens_per_day is not None
            total = inputs.get(w + "tokens_per_day", spec.tokens_per_day) * days
            how = f"tokens per day x {point_days:g} days"
        workload = _workload(
            input_tokens_per_month=total * share,
            output_tokens_per_month=total * (1 - share),
            **fields,
        )
        return workload, f"{how}, {spec.input_share:.0%} input"
    assert spec.input_tokens_per_request is not None
    assert spec.output_tokens_per_request is not None
    if spec.requests_per_month is not None:
        requests = inputs.get(w + "requests_per_month", spec.requests_per_month)
        how = "requests per month"
    else:
        assert spec.requests_per_day is not None
        requests = inputs.get(w + "requests_per_day", spec.requests_per_day) * days
        how = f"requests per day x {point_days:g} days"
    per_in = inputs.get(w + "input_tokens_per_request", spec.input_tokens_per_request)
    per_out = inputs.get(w + "output_tokens_per_request", spec.output_tokens_per_request)
    workload = _workload(
        input_tokens_per_month=requests * per_in,
        output_tokens_per_month=requests * per_out,
        requests_per_month=requests,
        input_tokens_per_request=per_in,
        output_tokens_per_request=per_out,
        **fields,
    )
    return workload, f"{how} x tokens per request"


def _has_volume(spec: WorkloadSpec) -> bool:
    return any(
        v is not None
        for v in (
            spec.output_tokens_per_month,
            spec.tokens_per_month,
            spec.tokens_per_day,
            spec.requests_per_month,
            spec.requests_per_day,
        )
    )


def _workload_from_logs(spec: WorkloadSpec, hours_per_month: float) -> tuple[Workload, str]:
    """The log's workload; a shape the scenario gives explicitly (peak_to_mean,
    cached_input_share, batch_share) wins over the log's, and the sentence says so."""
    from llm_tco.ingest import workload_from_logs

    assert spec.from_logs is not None
    fields = workload_from_logs(spec.from_logs, group=spec.logs_group)
    shape: dict[str, float] = {}
    kept: list[str] = []
    for name in ("peak_to_mean", "cached_input_share", "batch_share"):
        explicit = getattr(spec, name)
        logged = fields.get(name)
        if name in spec.model_fields_set:
            shape[name] = explicit
            if logged is not None:
                kept.append(f"{name} {explicit:g} as given (the log says {logged:.3g})")
        else:
            shape[name] = logged if logged is not None else explicit
    requests = fields.get("requests_per_month")
    workload = Workload(
        input_tokens_per_month=fields["input_tokens_per_month"],
        output_tokens_per_month=fields["output_tokens_per_month"],
        peak_to_mean=max(1.0, shape["peak_to_mean"]),
        cached_input_share=shape["cached_input_share"],
        batch_share=shape["batch_share"],
        requests_per_month=requests,
        input_tokens_per_request=fields.get("input_tokens_per_request"),
        output_tokens_per_request=fields.get("output_tokens_per_request"),
        prefix_reuse_share=fields.get("prefix_reuse_share"),
    )
    how = f"derived from logs {spec.from_logs}"
    return workload, "; ".join([how, *kept])


# --- API options ------------------------------------------------------------------------------


@dataclass
class OpsItems:
    """An option's monthly items: (name, USD) for the cost formulas, and their line items."""

    items: list[tuple[str, Value]]
    lines: dict[str, LineItem]

    @property
    def monthly_usd(self) -> Value:
        return sum((amount for _, amount in self.items), 0.0)


@dataclass(frozen=True)
class ResolvedApi:
    option: ApiOption
    price: ApiPriceInfo
    label: str
    fixed: OpsItems = field(default_factory=lambda: OpsItems([], {}))  # monthly items


def resolve_api(
    option: OptionSpec, spec: ApiSpec, workload: Workload, catalog: Catalog, notes: Notes
) -> ResolvedApi:
    name = option.name
    quote = None
    if spec.model is not None:
        try:
            quote = catalog.api_price(spec.model, spec.provider, tier=spec.tier, region=spec.region)
        except LlmTcoError as exc:
            exc.field = f"options[{name}].api.model"
            raise
    input_price = spec.input_per_mtok if spec.input_per_mtok is not None else None
    output_price = spec.output_per_mtok
    if quote is not None:
        quote = _tiered_quote(name, spec, quote, notes)
        _compare_prices(name, spec, quote.input_per_mtok, quote.output_per_mtok, notes)
        if quote.as_of and (dt.date.today() - quote.as_of).days > STALE_PRICE_DAYS:
            notes.warn(
                "stale_price",
                f"catalog price for {quote.model} dates from {quote.as_of}; check the "
                "provider's page",
                name,
            )
        check_price_freshness(name, quote, notes)
        input_price = quote.input_per_mtok if input_price is None else input_price
        output_price = quote.output_per_mtok if output_price is None else output_price
    assert input_price is not None and output_price is not None
    explicit = spec.input_per_mtok is not None
    source = "scenario" if explicit or quote is None else quote.source
    cached = _cached_price(name, spec, input_price, quote, workload, notes, point_inputs())
    batch = 0.0 if spec.tier == "batch" else _batch_discount(name, spec, quote, workload, notes)
    open_weight = spec.open_weight
    if open_weight is None:
        open_weight = bool(quote and (quote.open_weight or _is_open_model(quote.model, catalog)))
    price = ApiPriceInfo(
        input_per_mtok=input_price,
        output_per_mtok=output_price,
        cached_input_per_mtok=cached,
        batch_discount=batch,
        model=quote.model if quote else spec.model,
        provider=quote.provider if quote else spec.provider,
        source=source,
        as_of=None if explicit or quote is None else quote.as_of,
        tier=spec.tier,
        **_extra_dimensions(name, spec, input_price, None if explicit else quote, workload, notes),
    )
    api = api_option(option, spec, price, workload, point_inputs())
    label = "hosted open-weight API" if open_weight else "API"
    fixed = ops_items(name, spec, catalog, notes, kind="api")
    return ResolvedApi(option=api, price=price, label=label, fixed=fixed)


# Providers whose per-token prices change every few weeks (hosted open-weight models and
# DeepSeek): a price not checked in FAST_MOVING_DAYS is flagged.
FAST_MOVING_PROVIDERS = frozenset(
    {
        "deepseek",
        "together",
        "fireworks",
        "groq",
        "deepinfra",
        "novita",
        "openrouter",
        "cerebras",
        "hyperbolic",
        "sambanova",
        "nebius",
        "moonshotai",
        "zai",
        "mistral",
    }
)
FAST_MOVING_DAYS = 90


def check_price_freshness(
    name: str, quote: Any, notes: Notes, today: dt.date | None = None
) -> None:
    """Warn, with both figures, where our row and genai-prices disagree; and where a
    fast-moving provider's price was last checked more than FAST_MOVING_DAYS ago."""
    other = quote.disagreement
    if other is not None:
        notes.warn(
            "price_sources_disagree",
            f"{quote.model} ({quote.provider}): our catalog row says ${quote.input_per_mtok:g}/"
            f"${quote.output_per_mtok:g} per MTok in/out ({quote.source}, {quote.as_of}); "
            f"{other.source.split(';')[0]} says ${other.input_per_mtok:g}/"
            f"${other.output_per_mtok:g} (checked {other.as_of or 'undated'}); ours is used",
            name,
        )
    checked = quote.checked_on
    age = ((today or dt.date.today()) - checked).days if checked else None
    if quote.provider in FAST_MOVING_PROVIDERS and age is not None and age > FAST_MOVING_DAYS:
        notes.warn(
            "price_check_old",
            f"{quote.provider} changes prices often, and this price for {quote.model} "
            f"(${quote.input_per_mtok:g}/${quote.output_per_mtok:g} per MTok in/out) was last "
            f"checked {checked} ({age} days ago); check {quote.source.split('; ')[-1]} or run "
            "`llm-tco catalog refresh-prices`",
            name,
        )


def _tiered_quote(name: str, spec: ApiSpec, quote: Any, notes: Notes) -> Any:
    """The quote at the scenario's tier and region, or the standard one with a warning."""
    if spec.region is not None and not quote.region_found:
        notes.warn(
            "no_region_price",
            f"the price data has no rate for region {spec.region} for {quote.model}: the "
            "global rate is used; give input_per_mtok/output_per_mtok for the region's rate",
            name,
        )
    if spec.tier == "standard" or quote.tier_found:
        return quote
    discount = quote.batch_discount
    if spec.tier == "batch" and discount:
        notes.assume(
            f"{name}: batch rates",
            f"the standard rates less the provider's {discount:.0%} batch discount",
            "provider_terms.yaml",
        )
        keep = 1 - discount
        return quote.model_copy(
            update={
                "input_per_mtok": quote.input_per_mtok * keep,
                "output_per_mtok": quote.output_per_mtok * keep,
                "cached_input_per_mtok": None
                if quote.cached_input_per_mtok is None
                else quote.cached_input_per_mtok * keep,
            }
        )
    notes.warn(
        "no_tier_price",
        f"the price data has no `{spec.tier}` rate for {quote.model} ({quote.provider}): "
        "the standard rate is used",
        name,
    )
    return quote


def _extra_dimensions(
    name: str,
    spec: ApiSpec,
    input_price: float,
    quote: Any,
    workload: Workload,
    notes: Notes,
) -> dict[str, Any]:
    """Cache-write price at the scenario's TTL and the long-context rates (ApiPriceInfo
    fields), with a warning where the data has none and a fallback is used."""
    hour = spec.cache_ttl == "1h"
    write = spec.cache_write_per_mtok
    if write is None and quote is not None:
        write = quote.cache_write_1h_per_mtok if hour else quote.cache_write_per_mtok
        if write is None and hour and quote.cache_write_per_mtok is not None:
            write = quote.cache_write_per_mtok
            if spec.cache_write_share > 0:
                notes.warn(
                    "no_cache_write_price",
                    f"no 1-hour cache-write price for {quote.model}: the 5-minute price "
                    f"${write:g}/MTok is used",
                    name,
                )
    if write is None:
        write = input_price
        if spec.cache_write_share > 0:
            notes.warn(
                "no_cache_write_price",
                "no cache-write price known: cache writes are billed at the input price "
                "(as providers without a write surcharge do); set cache_write_per_mtok",
                name,
            )
    if spec.cache_write_share + float(np.max(workload.api_cached_input_share)) > 1 + 1e-9:
        raise ScenarioError(
            "cache_write_share plus workload.cached_input_share is over 1",
            field=f"options[{name}].api.cache_write_share",
            hint="the written and the read shares of input are parts of the same input",
        )
    values: dict[str, Any] = {"cache_write_per_mtok": write}
    long = quote.long_context if quote is not None else None
    if long is None:
        if spec.context_over_200k_share > 0:
            notes.warn(
                "no_long_context_price",
                "no long-context rate known for "
                f"{quote.model if quote is not None else 'explicit prices'}: tokens of "
                "prompts over 200k are billed at the standard rate",
                name,
            )
        return values
    values.update(
        long_context_threshold_tokens=long.threshold_tokens,
        long_input_per_mtok=long.input_per_mtok,
        long_output_per_mtok=long.output_per_mtok,
        long_cached_input_per_mtok=long.cached_input_per_mtok,
        long_cache_write_per_mtok=long.cache_write_1h_per_mtok
        if hour
        else long.cache_write_per_mtok,
    )
    return values


def api_option(
    option: OptionSpec, spec: ApiSpec, price: ApiPriceInfo, workload: Workload, inputs: Inputs
) -> ApiOption:
    """The core API option: ``price`` (the scenario's resolved prices) read through ``inputs``
    (floats without draws, arrays of samples with them). A catalog cache price is taken from
    ``price``, where it was resolved. Long-context rates the data lacks are the standard ones."""
    p = f"options[{option.name}]."
    input_price = inputs.get(p + "api.input_per_mtok", price.input_per_mtok)
    output_price = inputs.get(p + "api.output_per_mtok", price.output_per_mtok)
    cached = _cached_price(option.name, spec, input_price, price, workload, Notes(), inputs)
    write = price.cache_write_per_mtok if price.cache_write_per_mtok is not None else input_price
    write = inputs.get(p + "api.cache_write_per_mtok", write)

    def long(value: float | None, standard: Value) -> Value:
        return standard if value is None else value

    values: dict[str, Value] = {
        "input_per_mtok": input_price,
        "output_per_mtok": output_price,
        "cached_input_per_mtok": cached,
        "batch_discount": inputs.get(p + "api.batch_discount", price.batch_discount),
        "retry_rate": inputs.get(p + "retry_rate", option.retry_rate),
        "cache_write_per_mtok": write,
        "cache_write_share": inputs.get(p + "api.cache_write_share", spec.cache_write_share),
        "long_context_share": inputs.get(
            p + "api.context_over_200k_share", spec.context_over_200k_share
        ),
        "long_input_per_mtok": long(price.long_input_per_mtok, input_price),
        "long_output_per_mtok": long(price.long_output_per_mtok, output_price),
        "long_cached_input_per_mtok": long(price.long_cached_input_per_mtok, cached),
        "long_cache_write_per_mtok": long(price.long_cache_write_per_mtok, write),
    }
    # The core's cost formulas are plain arithmetic: they broadcast over arrays of samples.
    return ApiOption(
        name=option.name, acceptance_rate=option.acceptance_rate, **cast(dict[str, Any], values)
    )


def _is_open_model(name: str, catalog: Catalog) -> bool:
    """An API model whose weights are in our architecture catalog is a hosted open-weight one."""
    return normalise_name(name.split("/")[-1]) in catalog.weights_names


def _compare_prices(
    name: str, spec: ApiSpec, catalog_in: float, catalog_out: float, notes: Notes
) -> None:
    for kind, given, listed in (
        ("input", spec.input_per_mtok, catalog_in),
        ("output", spec.output_per_mtok, catalog_out),
    ):
        if given is None:
            continue
        if abs(given - listed) > PRICE_TOLERANCE * max(listed, 1e-9):
            notes.warn(
                "price_differs_from_catalog",
                f"{kind} price ${given:g}/MTok differs from the catalog's current "
                f"${listed:g}/MTok for {spec.model}; the scenario's price is used",
                name,
            )


def _cached_price(
    name: str,
    spec: ApiSpec,
    input_price: Value,
    quote: object,
    workload: Workload,
    notes: Notes,
    inputs: Inputs,
) -> Any:
    p = f"options[{name}].api."
    if spec.cached_input_per_mtok is not None:
        return inputs.get(p + "cached_input_per_mtok", spec.cached_input_per_mtok)
    if spec.cached_input_discount is not None:
        return input_price * (
            1 - inputs.get(p + "cached_input_discount", spec.cached_input_discount)
        )
    catalog_cached = getattr(quote, "cached_input_per_mtok", None)
    if catalog_cached is not None and spec.input_per_mtok is None:
        return float(catalog_cached)
    if np.any(np.asarray(workload.api_cached_input_share) > 0):
        notes.warn(
            "no_cache_price",
            "no cache-read price known: cached input is billed at the full input price; set "
            "cached_input_per_mtok or cached_input_discount",
            name,
        )
    return input_price


def _batch_discount(
    name: str, spec: ApiSpec, quote: object, workload: Workload, notes: Notes
) -> float:
    if spec.batch_discount is not None:
        return spec.batch_discount
    discount = getattr(quote, "batch_discount", None)
    if discount is not None:
        return float(discount)
    if np.any(np.asarray(workload.batch_share) > 0):
        notes.warn(
            "no_batch_discount",
            "no batch discount known for this provider: batch traffic is billed at the standard "
            "rate; set batch_discount",
            name,
        )
    return 0.0


# --- self-hosted options ----------------------------------------------------------------------


@dataclass(frozen=True)
class GpuPrice:
    monthly_usd_per_gpu: Value
    power_monthly_usd_per_gpu: Value
    formula: str
    source: str


def gpu_price(
    option: str,
    spec: SelfHostedSpec,
    gpu: GpuSpec,
    hours: float,
    catalog: Catalog,
    notes: Notes,
    inputs: Inputs | None = None,
) -> GpuPrice:
    """Monthly USD per GPU (rent, or purchase amortised) and power for owned GPUs.

    ``hours``: the scenario's hours per month; ``inputs`` gives sampled values where it has
    draws (the formula text states the scenario's own values)."""
    inputs = inputs or point_inputs()
    p = f"options[{option}].self_hosted."
    timed = inputs.get("hours_per_month", hours)
    if spec.gpu_hourly_price is not None:
        monthly = inputs.get(p + "gpu_hourly_price", spec.gpu_hourly_price) * timed
        return GpuPrice(monthly, 0.0, f"${spec.gpu_hourly_price:g}/GPU-h x {hours:g} h", "scenario")
    if spec.gpu_monthly_price is not None:
        monthly = inputs.get(p + "gpu_monthly_price", spec.gpu_monthly_price)
        return GpuPrice(monthly, 0.0, "per-GPU monthly price as given", "scenario")
    if spec.offer is not None:
        try:
            offer = catalog.offer(spec.offer, gpu.id)
        except LlmTcoError as exc:
            exc.field = f"options[{option}].self_hosted.offer"
            raise
        per_gpu = offer.price / offer.gpu_count
        if offer.price_unit == "hour":
            monthly = per_gpu * timed
            formula = f"{offer.provider} ${per_gpu:g}/GPU-h x {hours:g} h"
        else:
            monthly = per_gpu * timed / DEFAULT_HOURS_PER_MONTH
            formula = f"{offer.provider} {offer.currency} {per_gpu:g}/GPU-month"
        if offer.currency == "EUR":
            rate = _usd_per_eur(spec, catalog, notes)
            monthly = monthly * inputs.get(p + "usd_per_eur", rate)
            formula += f" x {rate:g} USD/EUR"
        notes.assume(f"{option}: GPU price", formula, offer.source, offer.as_of)
        if (dt.date.today() - offer.as_of).days > STALE_PRICE_DAYS:
            notes.warn("stale_price", f"offer {offer.id} dates from {offer.as_of}", option)
        return GpuPrice(monthly, 0.0, formula, f"{offer.source} ({offer.as_of})")
    assert spec.purchase is not None
    return _purchase_price(option, spec, gpu, hours, catalog, notes, inputs)


STALE_RATE_DAYS = 90  # an exchange rate older than a quarter is worth restating


def _usd_per_eur(spec: SelfHostedSpec, catalog: Catalog, notes: Notes) -> float:
    if spec.usd_per_eur is not None:
        return spec.usd_per_eur
    try:
        row = catalog.ops_default("usd_per_eur")
    except LlmTcoError:
        raise ScenarioError(
            "a EUR-priced offer needs an exchange rate", field="self_hosted.usd_per_eur"
        ) from None
    notes.assume("USD per EUR", f"{row.value:g}", row.source, row.as_of)
    if row.as_of is not None and (dt.date.today() - row.as_of).days > STALE_RATE_DAYS:
        notes.warn(
            "stale_exchange_rate",
            f"the catalog's exchange rate, {row.value:g} USD per EUR, dates from {row.as_of} "
            f"(over {STALE_RATE_DAYS} days old): give self_hosted.usd_per_eur",
        )
    return row.value


def _purchase_price(
    option: str,
    spec: SelfHostedSpec,
    gpu: GpuSpec,
    hours: float,
    catalog: Catalog,
    notes: Notes,
    inputs: Inputs,
) -> GpuPrice:
    purchase = spec.purchase
    assert purchase is not None
    p = f"options[{option}].self_hosted.purchase."
    price = purchase.price_per_gpu
    source = "scenario"
    if price is None:
        if gpu.purchase_price_usd is None:
            raise ScenarioError(
                f"no purchase price for {gpu.id} in the catalog",
                field=f"options[{option}].self_hosted.purchase.price_per_gpu",
                hint="give price_per_gpu",
            )
        price = gpu.purchase_price_usd
        source = gpu.purchase_price_source or gpu.source
        notes.assume(f"{option}: GPU purchase price", format_usd(price), source, gpu.as_of)
    monthly = inputs.get(p + "price_per_gpu", price) / inputs.get(
        p + "amortization_months", purchase.amortization_months
    ) + inputs.get(p + "hosting_monthly_per_gpu", purchase.hosting_monthly_per_gpu)
    formula = f"{format_usd(price)} / {purchase.amortization_months:g} months"
    if purchase.hosting_monthly_per_gpu:
        formula += f" + {format_usd(purchase.hosting_monthly_per_gpu)} hosting"
    power: Value = 0.0
    watts = purchase.watts_per_gpu if purchase.watts_per_gpu is not None else gpu.tdp_w
    if purchase.usd_per_kwh is not None and watts:
        power = (
            inputs.get(p + "watts_per_gpu", watts)
            / 1000
            * inputs.get("hours_per_month", hours)
            * inputs.get(p + "usd_per_kwh", purchase.usd_per_kwh)
            * inputs.get(p + "pue", purchase.pue or 1.0)
        )
    elif purchase.usd_per_kwh is None:
        notes.warn(
            "no_power_price",
            "owned GPUs without usd_per_kwh: electricity is not counted",
            option,
        )
    return GpuPrice(monthly, power, formula, source)


def ops_items(
    option: str,
    spec: MonthlyItems,
    catalog: Catalog,
    notes: Notes,
    inputs: Inputs | None = None,
    kind: str = "self_hosted",
) -> OpsItems:
    """Engineering, observability, storage, networking, load balancing, setup and other costs
    of an option of any ``kind`` (its scenario key: ``self_hosted``, ``api``, ``hybrid`` ...);
    only a self-hosted option falls back on the catalog's defaults when it states none.

    ``inputs`` gives sampled values where it has draws; the line items (formula text and
    source) state the scenario's own values, and exist only without draws."""
    inputs = inputs or point_inputs()
    p = f"options[{option}].{kind}."
    items: list[tuple[str, Value]] = []
    lines: dict[str, LineItem] = {}

    def add(name: str, amount: Value, formula: str, source: str | None = "scenario") -> None:
        items.append((name, amount))
        if not inputs.draws:
            lines[name] = LineItem(
                name=name, monthly_usd=cast(float, amount), formula=formula, source=source
            )

    stated = [
        spec.ops_monthly,
        spec.engineer_fte,
        spec.engineering_hours_per_month,
        spec.observability_monthly,
        spec.storage_monthly,
        spec.networking_monthly,
        spec.load_balancing_monthly,
    ]
    use_defaults = (
        getattr(spec, "ops_defaults", False)
        and all(v is None for v in stated)
        and not spec.other_monthly
        and not spec.fixed_monthly
    )
    annual = spec.engineer_annual_cost
    annual_source = "scenario"
    if annual is None and (spec.engineer_fte is not None or spec.setup_weeks is not None):
        row = catalog.ops_default("engineer_annual_cost_usd")
        annual, annual_source = row.value, f"default: {row.source}"
    sampled_annual = None if annual is None else inputs.get(p + "engineer_annual_cost", annual)
    if spec.ops_monthly is not None:
        add("ops", inputs.get(p + "ops_monthly", spec.ops_monthly), "ops per month as given")
    if spec.engineer_fte is not None:
        assert annual is not None and sampled_annual is not None
        add(
            "engineering",
            inputs.get(p + "engineer_fte", spec.engineer_fte) * sampled_annual / MONTHS_PER_YEAR,
            f"{spec.engineer_fte:g} FTE x {format_usd(annual)}/yr / 12",
            annual_source,
        )
    elif spec.engineering_hours_per_month is not None:
        rate = spec.engineer_hourly_rate
        rate_source = "scenario"
        if rate is None:
            row = catalog.ops_default("engineer_hourly_rate_usd")
            rate, rate_source = row.value, f"default: {row.source}"
        add(
            "engineering",
            inputs.get(p + "engineering_hours_per_month", spec.engineering_hours_per_month)
            * inputs.get(p + "engineer_hourly_rate", rate),
            f"{spec.engineering_hours_per_month:g} h/month x ${rate:g}/h",
            rate_source,
        )
    for key, attribute in (
        ("observability", "observability_monthly"),
        ("storage", "storage_monthly"),
        ("networking", "networking_monthly"),
        ("load_balancing", "load_balancing_monthly"),
    ):
        value = getattr(spec, attribute)
        if value is not None:
            add(
                key,
                inputs.get(p + attribute, value),
                f"{key.replace('_', ' ')} per month as given",
            )
    for key, value in spec.other_monthly.items():
        add(key, inputs.get(f"{p}other_monthly.{key}", value), "per month as given")
    for key, value in spec.fixed_monthly.items():
        add(key, inputs.get(f"{p}fixed_monthly.{key}", value), "per month as given")
    if use_defaults:
        _default_ops(option, catalog, notes, add)
    if spec.setup_cost is not None or spec.setup_weeks is not None:
        months = spec.setup_amortization_months
        sampled_months = inputs.get(p + "setup_amortization_months", months)
        if spec.setup_cost is not None:
            add(
                "setup",
                inputs.get(p + "setup_cost", spec.setup_cost) / sampled_months,
                f"{format_usd(spec.setup_cost)} / {months:g} months",
            )
        else:
            assert spec.setup_weeks is not None and annual is not None
            assert sampled_annual is not None
            weekly = annual / WEEKS_PER_YEAR
            add(
                "setup",
                inputs.get(p + "setup_weeks", spec.setup_weeks)
                * (sampled_annual / WEEKS_PER_YEAR)
                / sampled_months,
                f"{spec.setup_weeks:g} weeks x {format_usd(weekly)}/week / {months:g} months",
                annual_source,
            )
    return OpsItems(items, lines)


DEFAULT_OPS_KEYS = (
    ("engineering", "engineer_fte"),
    ("observability", "observability_monthly_usd"),
    ("storage", "storage_monthly_usd"),
    ("networking", "networking_monthly_usd"),
    ("load_balancing", "load_balancing_monthly_usd"),
)


def _default_ops(option: str, catalog: Catalog, notes: Notes, add: object) -> None:
    assert callable(add)
    for name, key in DEFAULT_OPS_KEYS:
        try:
            row = catalog.ops_default(key)
        except LlmTcoError:
            continue
        if key == "engineer_fte":
            annual = catalog.ops_default("engineer_annual_cost_usd")
            amount = row.value * annual.value / MONTHS_PER_YEAR
            formula = f"default {row.value:g} FTE x {format_usd(annual.value)}/yr / 12"
            source = f"{row.source}; {annual.source}"
        else:
            amount, formula, source = row.value, f"default {row.description}", row.source
        add(name, amount, formula, f"default: {source}")
    notes.warn(
        "ops_defaults_assumed",
        "no ops costs stated: typical hidden self-hosting costs were assumed (see line items); "
        "state them, or set ops_defaults: false",
        option,
    )


def fp8_support_note(gpu: GpuSpec, precision: str) -> str | None:
    if precision == "fp8" and gpu.fp8_dense_tflops is None:
        return (
            f"{gpu.name} has no FP8 tensor cores: FP8 weights run as weight-only "
            "quantisation, at BF16 compute speed"
        )
    return None


@dataclass(frozen=True)
class ResolvedSelfHosted:
    option: SelfHostedOption
    gpu: GpuSpec
    arch: ModelArch | None
    gpu_price: GpuPrice
    ops_lines: dict[str, LineItem]
    capacity_source: str | None
    memory: object | None
    min_gpus_to_fit: int | None
