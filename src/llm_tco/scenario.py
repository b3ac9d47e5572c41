"""The scenario file: one workload, the options to compare, and volumes to sweep.

This is the single input format shared by the CLI, the web app, the API and the reports. It is
parsed into these pydantic models; :mod:`llm_tco.evaluate` turns it into core inputs.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from llm_tco.core.capacity import engine_key
from llm_tco.core.memory import precision_key
from llm_tco.core.uncertainty import Distribution
from llm_tco.core.units import DEFAULT_HOURS_PER_MONTH, parse_quantity
from llm_tco.documents import MAX_DOCUMENT_BYTES, HugeInteger, decode_text, parse_document
from llm_tco.errors import ScenarioError
from llm_tco.ranges import extract_ranges, parse_range, range_data

# Bounds on every number a scenario gives. The busiest public APIs serve ~5e14 tokens a month
# (Google I/O 2025 keynote: 480 trillion tokens a month across Google's products), and no
# price, volume or count here comes near 1e15; the bound keeps products of fields finite
# (1e15^2 = 1e30 < 1e308).
# Divisors (rates, months, prices per unit) are at least MIN_POSITIVE, so quotients stay finite.
MAX_QUANTITY = 1e15
MIN_POSITIVE = 1e-6
MAX_GPUS = 100_000
MAX_CONTEXT_TOKENS = 100_000_000
MAX_OPTIONS = 200
MAX_SWEEP_VOLUMES = 1000
MAX_SAMPLES = 100_000  # Monte Carlo months: 100,000 samples of 5 options run in under 2 s
# Terminal escape codes and other control characters (C0 except tab/newline/CR, DEL, C1).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile(r"[\r\n\t]")


def _quantity(value: object) -> float:
    if isinstance(value, HugeInteger):
        raise ValueError(f"{value} is not a quantity (at most {MAX_QUANTITY:g})")
    return parse_quantity(value)


Quantity = Annotated[float, BeforeValidator(_quantity), Field(ge=0, le=MAX_QUANTITY)]
PositiveQuantity = Annotated[
    float, BeforeValidator(_quantity), Field(ge=MIN_POSITIVE, le=MAX_QUANTITY)
]
GpuCount = Annotated[int, Field(ge=1, le=MAX_GPUS)]
Share = Annotated[float, BeforeValidator(_quantity), Field(ge=0, le=1)]
Weight = Annotated[float, BeforeValidator(_quantity), Field(ge=0, le=100)]


def _distribution(value: object) -> Distribution:
    if isinstance(value, Distribution):
        return value
    if isinstance(value, dict):
        return parse_range(value)
    raise ValueError("a range is {low, high}, {triangular: [a, mode, b]} or {lognormal: ...}")


RangeValue = Annotated[
    Distribution, PlainValidator(_distribution), PlainSerializer(range_data, return_type=dict)
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WorkloadSpec(Strict):
    """Monthly traffic. Give input+output per month, or a total with input_share, or per request."""

    input_tokens_per_month: Quantity | None = None
    output_tokens_per_month: Quantity | None = None
    tokens_per_month: Quantity | None = None
    tokens_per_day: Quantity | None = None
    input_share: Share | None = None
    requests_per_month: Quantity | None = None
    requests_per_day: Quantity | None = None
    input_tokens_per_request: Quantity | None = None
    output_tokens_per_request: Quantity | None = None
    peak_to_mean: Annotated[float, BeforeValidator(_quantity), Field(ge=1, le=1000)] = 1.0
    cached_input_share: Share = 0.0
    prefix_reuse_share: Share | None = Field(
        default=None,
        description="share of input tokens in prefixes seen before within a cache lifetime "
        "(`llm-tco ingest` measures it from logged prompts): an API with prompt caching bills "
        "them at its cache-read price (in place of cached_input_share), a self-hosted engine "
        "with prefix caching skips their prefill",
    )
    batch_share: Share = 0.0
    cache_write_share: Share | None = Field(
        default=None,
        description="share of input tokens written to a provider's prompt cache (`llm-tco "
        "ingest` measures it from provider-reported cache writes): API options bill it at "
        "their cache-write price unless the option sets api.cache_write_share",
    )
    from_logs: str | None = Field(
        default=None, description="derive the workload from request logs (see `llm-tco ingest`)"
    )
    logs_group: str | None = None
    hourly_profile: list[Quantity] | None = Field(
        default=None,
        description="relative load in each hour of the day (24 values), for autoscaling",
    )
    weekly_profile: list[Quantity] | None = Field(
        default=None,
        description="relative load in each hour of the week (168 values, hour 0 = Monday "
        "00:00-01:00 UTC), for sizing from a trace: a typical week in place of a typical day",
    )

    @model_validator(mode="after")
    def _profile(self) -> WorkloadSpec:
        if self.hourly_profile is not None and (
            len(self.hourly_profile) != 24 or max(self.hourly_profile) <= 0
        ):
            raise ValueError("hourly_profile needs 24 values, hour 0 to 23, not all zero")
        if self.weekly_profile is not None and (
            len(self.weekly_profile) != 168 or max(self.weekly_profile) <= 0
        ):
            raise ValueError(
                "weekly_profile needs 168 values, hour 0 (Monday 00:00 UTC) to 167, not all zero"
            )
        return self

    @model_validator(mode="after")
    def _one_volume(self) -> WorkloadSpec:
        ways = {
            "input_tokens_per_month/output_tokens_per_month": self.input_tokens_per_month
            is not None
            or self.output_tokens_per_month is not None,
            "tokens_per_month": self.tokens_per_month is not None,
            "tokens_per_day": self.tokens_per_day is not None,
            "requests_per_month": self.requests_per_month is not None,
            "requests_per_day": self.requests_per_day is not None,
        }
        given = [name for name, present in ways.items() if present]
        if given and self.from_logs is not None:
            raise ValueError(
                f"give the volume one way only: from_logs or {given[0]}, not both "
                "(the log's volume would be ignored)"
            )
        if len(given) > 1:
            raise ValueError(f"give the volume one way only, not {' and '.join(given)}")
        if not given and self.from_logs is None:
            raise ValueError(
                "missing volume: set input_tokens_per_month + output_tokens_per_month, "
                "tokens_per_month (or tokens_per_day) + input_share, requests_per_month + "
                "input_tokens_per_request + output_tokens_per_request, or from_logs"
            )
        if given and given[0].startswith("tokens_per") and self.input_share is None:
            raise ValueError(f"{given[0]} needs input_share (e.g. 0.6 for 60% input tokens)")
        if (
            given
            and given[0].startswith("requests_per")
            and (self.input_tokens_per_request is None or self.output_tokens_per_request is None)
        ):
            raise ValueError(
                f"{given[0]} needs input_tokens_per_request and output_tokens_per_request"
            )
        return self


class MonthlyItems(Strict):
    """Monthly costs beside the per-token or GPU price, on any kind of option: engineering (FTE
    or hours), gateway or router, observability, resilience work, support plan, setup. None is
    assumed for an API; a self-hosted option without any gets the catalog's defaults."""

    fixed_monthly: Annotated[dict[str, Quantity], Field(max_length=100)] = Field(
        default={},
        description="named monthly costs, USD (e.g. resilience: 1500, support_plan: 500)",
    )
    ops_monthly: Quantity | None = None
    engineer_fte: Quantity | None = None
    engineer_annual_cost: Quantity | None = None
    engineering_hours_per_month: Quantity | None = None
    engineer_hourly_rate: Quantity | None = None
    observability_monthly: Quantity | None = None
    storage_monthly: Quantity | None = None
    networking_monthly: Quantity | None = None
    load_balancing_monthly: Quantity | None = None
    other_monthly: Annotated[dict[str, Quantity], Field(max_length=100)] = {}
    setup_cost: Quantity | None = None
    setup_weeks: Quantity | None = None
    setup_amortization_months: PositiveQuantity = 12.0

    @model_validator(mode="after")
    def _one_engineering(self) -> MonthlyItems:
        if self.engineer_fte is not None and self.engineer_hours_set:
            raise ValueError("give engineer_fte or engineering_hours_per_month, not both")
        return self

    @property
    def engineer_hours_set(self) -> bool:
        return self.engineering_hours_per_month is not None

    @property
    def states_monthly_items(self) -> bool:
        """Whether any monthly item is given."""
        return bool(self.fixed_monthly or self.other_monthly) or any(
            getattr(self, name) is not None
            for name in (
                "ops_monthly",
                "engineer_fte",
                "engineering_hours_per_month",
                "observability_monthly",
                "storage_monthly",
                "networking_monthly",
                "load_balancing_monthly",
                "setup_cost",
                "setup_weeks",
            )
        )


class RateLimitSpec(Strict):
    """The account's rate limits: a tier of the catalog's (`llm-tco catalog rate-limits`) for
    the option's provider and model, or the limits themselves (these win over the tier's)."""

    tier: str | None = Field(default=None, description="e.g. tier-4 (OpenAI, Anthropic)")
    requests_per_minute: PositiveQuantity | None = None
    tokens_per_minute: PositiveQuantity | None = Field(
        default=None, description="input + output tokens per minute"
    )
    input_tokens_per_minute: PositiveQuantity | None = None
    output_tokens_per_minute: PositiveQuantity | None = None
    cached_input_counts: bool | None = Field(
        default=None, description="whether cache reads count towards the input limit"
    )
    remedies: bool = Field(
        default=True,
        description="whether a higher tier, more regions or accounts, a larger batch share or "
        "provisioned throughput may be used; false: a peak over the limits cannot be served",
    )


class ApiSpec(MonthlyItems):
    """A per-token API by catalog name, by explicit prices, or both (explicit wins, and is
    compared with the catalog)."""

    model: str | None = None
    provider: str | None = None
    input_per_mtok: Quantity | None = None
    output_per_mtok: Quantity | None = None
    cached_input_per_mtok: Quantity | None = None
    cached_input_discount: Share | None = Field(
        default=None, description="share off the input price for cached input, when no price"
    )
    batch_discount: Share | None = None
    open_weight: bool | None = None
    rate_limits: RateLimitSpec | None = None
    # Latency the API gives (measured, or a published measurement), at latency_percentile,
    # checked against the option's SLO, else decision.latency_target_ms (first token), else
    # the SLO the scenario's self-hosted options state.
    ttft_ms: PositiveQuantity | None = Field(default=None, description="time to first token, ms")
    tpot_ms: PositiveQuantity | None = Field(default=None, description="time per output token, ms")
    latency_percentile: Annotated[float, Field(gt=0, le=100)] | None = None
    latency_source: str | None = Field(default=None, max_length=300)
    ttft_slo_ms: PositiveQuantity | None = None
    tpot_slo_ms: PositiveQuantity | None = None
    tier: Literal["standard", "flex", "priority", "batch"] = Field(
        default="standard",
        description="service tier for all of this option's traffic: flex (slower, cheaper), "
        "priority (faster, dearer), batch (asynchronous); prices from genai-prices' variants",
    )
    context_over_200k_share: Share = Field(
        default=0.0,
        description="share of tokens in requests whose prompt is over the long-context "
        "threshold (200k tokens for Claude and Gemini Pro), billed at the long-context rates",
    )
    cache_write_share: Share = Field(
        default=0.0, description="share of input tokens written to the prompt cache"
    )
    cache_ttl: Literal["5m", "1h"] = Field(
        default="5m", description="prompt-cache lifetime the writes pay for (Anthropic: 5m, 1h)"
    )
    cache_write_per_mtok: Quantity | None = None
    region: str | None = Field(
        default=None,
        max_length=40,
        description="data-residency region; priced where genai-prices has a regional rate",
    )

    @model_validator(mode="after")
    def _priced(self) -> ApiSpec:
        explicit = (self.input_per_mtok is not None, self.output_per_mtok is not None)
        if self.model is None and not all(explicit):
            raise ValueError(
                "an api option needs a catalog `model`, or both input_per_mtok and output_per_mtok"
            )
        if any(explicit) and not all(explicit):
            raise ValueError("give both input_per_mtok and output_per_mtok, or neither")
        return self


class PurchaseSpec(Strict):
    """Owned GPUs: purchase price amortised over months, plus power."""

    price_per_gpu: PositiveQuantity | None = None
    amortization_months: PositiveQuantity = 36.0
    usd_per_kwh: Quantity | None = None
    pue: Annotated[float, BeforeValidator(_quantity), Field(ge=1, le=10)] | None = None
    watts_per_gpu: Quantity | None = None
    hosting_monthly_per_gpu: Quantity = 0.0


class SpeculativeSpec(Strict):
    """Speculative decoding: a draft model or multi-token prediction (MTP) heads propose
    ``draft_tokens`` per step, each accepted with probability ``acceptance_rate``."""

    method: Literal["draft", "mtp"] = "draft"
    acceptance_rate: Annotated[float, Field(ge=0, le=1)]
    draft_tokens: Annotated[int, Field(ge=1, le=16)] | None = None  # default: 3 draft, 1 MTP
    # One draft pass over one target decode step; default 0.05 for a draft model, one layer
    # over the model's layers for MTP.
    draft_cost_ratio: Annotated[float, Field(ge=0, le=1)] | None = None


class SelfHostedSpec(MonthlyItems):
    """A self-hosted deployment of an open-weight model on GPUs, and what running it costs."""

    model: str | None = None
    precision: Literal["bf16", "fp16", "fp8", "int8", "int4", "auto"] = "bf16"
    kv_precision: Literal["bf16", "fp16", "fp8", "int8"] | None = None
    gpu: str  # a catalog GPU, or auto: the deployment search chooses (with offer: cheapest)
    # With gpu / precision auto: what the search may choose from, and precisions it must not.
    allowed_gpus: Annotated[list[str], Field(max_length=100)] | None = None
    allowed_precisions: list[Literal["bf16", "fp16", "fp8", "int8", "int4"]] | None = None
    forbid_precisions: list[Literal["bf16", "fp16", "fp8", "int8", "int4"]] = []
    gpu_count: Annotated[int, Field(le=MAX_GPUS)] | Literal["auto"] = "auto"
    gpus_per_replica: GpuCount | None = None
    min_replicas: GpuCount = 1
    # GPU price: one of these
    gpu_hourly_price: Quantity | None = None
    gpu_monthly_price: Quantity | None = None
    offer: str | None = None
    purchase: PurchaseSpec | None = None
    usd_per_eur: PositiveQuantity | None = None
    # capacity per replica (until measured or modelled)
    tokens_per_second_per_replica: PositiveQuantity | None = None
    output_tokens_per_second_per_replica: PositiveQuantity | None = None
    bench_result: str | None = None
    engine: Literal["vllm", "sglang", "trtllm", "llamacpp"] = "vllm"
    tpot_slo_ms: PositiveQuantity | None = 50.0
    ttft_slo_ms: PositiveQuantity | None = 2000.0
    # The percentile each target is read at (None: the mean, from the steady state); a
    # percentile is checked on the continuous-batching simulator at random arrivals whose
    # gaps have coefficient of variation arrival_burstiness (1: Poisson).
    ttft_slo_percentile: Annotated[float, Field(ge=50, le=99.9)] | None = None
    tpot_slo_percentile: Annotated[float, Field(ge=50, le=99.9)] | None = None
    arrival_burstiness: Annotated[float, Field(gt=0, le=10)] = 1.0
    # How the router in front of the replicas spreads requests, for the per-minute sizing at
    # percentile targets (size-trace): load-aware routers (llm-d's queue-depth and KV scorers,
    # the SGLang and vLLM routers' cache-aware policy with its least-loaded fallback) pool the
    # queue; round-robin sends in turn; random thins the arrivals (the most conservative).
    routing: Literal["least-loaded", "round-robin", "random"] = "least-loaded"
    speculative: SpeculativeSpec | None = None
    context_tokens: Annotated[int, Field(ge=1, le=MAX_CONTEXT_TOKENS)] | None = None
    ops_defaults: bool = True
    redundancy: Literal["none", "n+1"] = "none"
    variable_per_mtok: Quantity = 0.0

    @field_validator("precision", "kv_precision", "engine", mode="before")
    @classmethod
    def _spelling(cls, value: object, info: ValidationInfo) -> object:
        """Other spellings of a format or an engine (``FP8``, ``AWQ``, ``TensorRT-LLM``) read as
        the name the tool uses; anything unknown is left for the field's own error."""
        if not isinstance(value, str) or value == "auto":
            return value
        if info.field_name == "engine":
            return engine_key(value)
        try:
            return precision_key(value, str(info.field_name))[0]
        except ScenarioError:
            return value

    @model_validator(mode="after")
    def _check(self) -> SelfHostedSpec:
        prices = [
            name
            for name in ("gpu_hourly_price", "gpu_monthly_price", "offer", "purchase")
            if getattr(self, name) is not None
        ]
        if not prices:
            raise ValueError(
                "needs a GPU price: gpu_hourly_price, gpu_monthly_price, offer (e.g. runpod) "
                "or purchase"
            )
        if len(prices) > 1:
            raise ValueError(f"give one GPU price, not {' and '.join(prices)}")
        if self.gpu == "auto" and self.offer != "cheapest":
            raise ValueError("gpu: auto needs offer: cheapest (the search prices every offer)")
        if (self.gpu == "auto" or self.precision == "auto") and self.model is None:
            raise ValueError("gpu or precision auto needs a catalog `model` to search for")
        if isinstance(self.gpu_count, int) and self.gpu_count < 1:
            raise ValueError("gpu_count must be at least 1, or auto")
        if (
            isinstance(self.gpu_count, int)
            and self.gpus_per_replica is not None
            and self.gpus_per_replica > self.gpu_count
        ):
            raise ValueError("gpus_per_replica cannot exceed gpu_count")
        capacities = [
            name
            for name in (
                "tokens_per_second_per_replica",
                "output_tokens_per_second_per_replica",
                "bench_result",
            )
            if getattr(self, name) is not None
        ]
        if len(capacities) > 1:
            raise ValueError(f"give one capacity, not {' and '.join(capacities)}")
        return self


class ProvisionedSpec(MonthlyItems):
    """Reserved API capacity (Azure OpenAI PTUs, Amazon Bedrock model units, Vertex AI GSUs):
    whole units at a flat price, sized to the peak minute like GPU replicas. The figures come
    from a row of `llm-tco catalog provisioned` (``offer``), or are given here (these win)."""

    offer: str | None = Field(default=None, description="id of a catalog provisioned row")
    provider: str | None = None
    model: str | None = None
    unit_price_hourly: Quantity | None = None
    unit_price_monthly: Quantity | None = None
    tokens_per_minute_per_unit: PositiveQuantity | None = Field(
        default=None, description="input-equivalent tokens per minute one unit serves"
    )
    output_token_weight: Weight | None = Field(
        default=None, description="input tokens one output token counts as"
    )
    cached_input_counts: bool | None = None
    min_units: GpuCount | None = None
    unit_increment: GpuCount | None = None
    units: Annotated[int, Field(ge=1, le=MAX_GPUS)] | Literal["auto"] = "auto"
    term: str | None = Field(default=None, max_length=80, description="e.g. hourly, 1-month")

    @model_validator(mode="after")
    def _priced(self) -> ProvisionedSpec:
        if self.unit_price_hourly is not None and self.unit_price_monthly is not None:
            raise ValueError("give unit_price_hourly or unit_price_monthly, not both")
        if self.offer is None and (
            self.tokens_per_minute_per_unit is None
            or (self.unit_price_hourly is None and self.unit_price_monthly is None)
        ):
            raise ValueError(
                "a provisioned option needs a catalog `offer`, or tokens_per_minute_per_unit and "
                "unit_price_hourly or unit_price_monthly"
            )
        return self


class HybridSpec(MonthlyItems):
    """Route a share of the traffic to a self-hosted option and the rest to an API option."""

    self_hosted: str = Field(
        description="name of a self_hosted (or provisioned) option in this scenario"
    )
    api: str = Field(description="name of an api option in this scenario")
    self_hosted_share: Literal["optimise", "optimize"] | Share = "optimise"
    fallback_rate: Share = Field(
        default=0.0, description="share of self-hosted requests re-sent to the API (low confidence)"
    )
    quality_floor: Share | None = Field(
        default=None, description="lowest blended quality (options' `quality`) the split may have"
    )
    routing_monthly: Quantity = Field(default=0.0, description="router upkeep, USD/month")


class ScalingSpec(Strict):
    """What-if choices for a self-hosted option's idle cost (see `llm-tco recommend`)."""

    max_replicas: GpuCount | None = None
    scale_to_zero: bool = False
    cold_start_minutes: Quantity | None = None
    scale_up_minutes: Quantity | None = Field(
        default=None,
        description="minutes from an autoscaler's request to a GPU node up, before the "
        "model loads (cold_start_minutes); `llm-tco size-trace`",
    )
    spot_discount: Share | None = None
    spot_availability: Share | None = Field(
        default=None,
        description="share of the time a spot replica is up (interruptions); spot is left "
        "out of `llm-tco size-trace` without it",
    )
    reserved_discount: Share | None = None
    owned_price_per_gpu: PositiveQuantity | None = None
    owned_amortization_months: PositiveQuantity = 36.0


OPTION_KINDS = ("api", "self_hosted", "hybrid", "provisioned")


class OptionSpec(Strict):
    """One way of serving the workload."""

    name: str = Field(min_length=1, max_length=80)
    api: ApiSpec | None = None
    self_hosted: SelfHostedSpec | None = None
    hybrid: HybridSpec | None = None
    provisioned: ProvisionedSpec | None = None
    retry_rate: Quantity = 0.0
    acceptance_rate: Annotated[float, BeforeValidator(_quantity), Field(ge=MIN_POSITIVE, le=1)] = (
        1.0
    )
    quality: Share | None = Field(
        default=None, description="score on your own eval (0-1), for hybrid quality floors"
    )
    acceptance_source: str | None = Field(
        default=None,
        max_length=300,
        description="where acceptance_rate and retry_rate were measured (`llm-tco quality`)",
    )
    scaling: ScalingSpec | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> OptionSpec:
        kinds = [k for k in OPTION_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                "an option needs exactly one of `api`, `self_hosted`, `hybrid` or `provisioned`"
            )
        return self


class DecisionSpec(Strict):
    """Answers to the qualitative questions the recommendation weighs (all optional)."""

    data_residency_required: bool | None = Field(
        default=None,
        description="data legally may never leave your infrastructure, and no API's region "
        "pinning or zero-retention endpoint satisfies it",
    )
    fine_tuning_needed: bool | None = None
    gpu_ops_skill: bool | None = Field(
        default=None, description="GPU ops capability in-house, or budget to hire it"
    )
    open_model_meets_quality: bool | None = Field(
        default=None, description="an eval on your own prompts puts the open model within ~10%"
    )
    quality_bar: Literal["frontier", "standard"] | None = None
    latency_target_ms: PositiveQuantity | None = Field(
        default=None, description="time-to-first-token target"
    )
    willing_to_rebenchmark: bool | None = Field(
        default=None, description="willing to re-run evals every 6 months"
    )
    model_not_offered_by_apis: bool | None = None
    load_pattern: Literal["steady", "bursty"] | None = None
    agentic: bool | None = None


YearlyChange = Annotated[float, Field(ge=-0.99, le=10)]
YearlyRate = Annotated[float, Field(ge=0, le=1)]


class TermSpec(Strict):
    """How prices and money move over ``term_months`` (per year). A field left out takes the
    sourced default of ``catalog/term_defaults.yaml`` (its range in the Monte Carlo)."""

    api_price_change_per_year: YearlyChange | None = Field(
        default=None, description="relative change of API prices a year on (-0.3: 30% lower)"
    )
    gpu_price_change_per_year: YearlyChange | None = Field(
        default=None, description="relative change of GPU rental prices a year on"
    )
    hardware_depreciation_per_year: Share | None = Field(
        default=None, description="value bought GPUs lose each year (sets their resale value)"
    )
    resale_value_share: Share | None = Field(
        default=None,
        description="resale value of bought GPUs at the end of the term, share of the price",
    )
    discount_rate_per_year: YearlyRate = Field(
        default=0.0, description="what money costs you: later months weigh less"
    )
    capital_charge_per_year: YearlyRate = Field(
        default=0.0, description="yearly charge on the money tied up in bought GPUs"
    )


class Scenario(Strict):
    """A workload and the options to serve it."""

    name: str = Field(default="Scenario", max_length=200)
    description: str | None = None
    hours_per_month: PositiveQuantity = DEFAULT_HOURS_PER_MONTH
    workload: WorkloadSpec
    options: list[OptionSpec] = Field(min_length=1, max_length=MAX_OPTIONS)
    sweep: list[PositiveQuantity] = Field(default=[], max_length=MAX_SWEEP_VOLUMES)
    decision: DecisionSpec | None = None
    term_months: Annotated[int, Field(ge=1, le=120)] = Field(
        default=1, description="months the decision is for (`llm-tco term`): 1, 12, 24, 36"
    )
    term: TermSpec | None = None
    uncertain: dict[str, RangeValue] = Field(
        default={},
        description="ranges by input path; filled from range-valued numbers, which the "
        "scenario holds at their point values",
    )

    @model_validator(mode="before")
    @classmethod
    def _ranges(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        points, found = extract_ranges(data)
        if found:
            given = dict(points.get("uncertain") or {})
            given.update(found)
            points["uncertain"] = given
        return points

    @model_validator(mode="after")
    def _unique_names(self) -> Scenario:
        names = [o.name for o in self.options]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"option names must be unique; repeated: {', '.join(duplicates)}")
        if self.hours_per_month > 744:
            raise ValueError("hours_per_month cannot exceed 744 (31 days)")
        kinds = {o.name: o for o in self.options}
        for option in self.options:
            if option.hybrid is None:
                continue
            for kind in ("self_hosted", "api"):
                ref = getattr(option.hybrid, kind)
                accepted = ("self_hosted", "provisioned") if kind == "self_hosted" else (kind,)
                if ref not in kinds or all(getattr(kinds[ref], k) is None for k in accepted):
                    raise ValueError(
                        f"hybrid {option.name}: {kind} must name a {kind} option, not '{ref}'"
                    )
        return self


def _location(loc: tuple[int | str, ...], data: Any) -> str:
    """'options[1].self_hosted.gpu' rather than pydantic's ('options', 1, 'self_hosted', 'gpu')."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and item < len(node):
                node = node[item]
                if isinstance(node, dict) and isinstance(node.get("name"), str):
                    label = f"[{item}:{node['name']}]"
            parts.append(label)
        else:
            parts.append(("." if parts else "") + str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts)


def _check_text(data: Any, path: str = "") -> None:
    """Refuse control characters in any string (they reach terminals, CSV and Markdown);
    names and other one-line values also refuse tabs and line breaks."""
    stack: list[tuple[Any, str]] = [(data, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            multiline = where.endswith("description")
            if _CONTROL.search(node) or (not multiline and _LINE_BREAK.search(node)):
                raise ScenarioError(
                    "control characters (terminal escape codes, line breaks) are not allowed",
                    field=where or "scenario",
                )
        elif isinstance(node, dict):
            for key, value in node.items():
                label = str(key)
                stack.append((label, f"{where}.{label}" if where else label))
                stack.append((value, f"{where}.{label}" if where else label))
        elif isinstance(node, list):
            stack.extend((value, f"{where}[{i}]") for i, value in enumerate(node))


_BOUND_WORDS = {
    "less_than_equal": ("at most", "le"),
    "less_than": ("less than", "lt"),
    "greater_than_equal": ("at least", "ge"),
    "greater_than": ("more than", "gt"),
}


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)[:40]


def scenario_from_data(data: Any, origin: str = "scenario") -> Scenario:
    """Validate parsed YAML/JSON into a Scenario; errors name the field and the fix."""
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{origin} must be a mapping with `workload` and `options`, got {type(data).__name__}"
        )
    _check_text(data)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(p for p in error["loc"] if not str(p).startswith("function-after"))
        where = _location(loc, data) or "scenario"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "missing required field"
        elif error["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; see `llm-tco init` for every field)"
        elif error["type"] in _BOUND_WORDS:
            word, key = _BOUND_WORDS[error["type"]]
            limit = (error.get("ctx") or {}).get(key)
            message = f"{word} {limit:g}" if isinstance(limit, int | float) else message
            message += f" (got {_shown(error.get('input'))})"
        elif error["type"] == "too_long":
            limit = (error.get("ctx") or {}).get("max_length")
            message = f"at most {limit} entries" if limit is not None else message
        more = len(exc.errors()) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise ScenarioError(message + suffix, field=where) from None


def read_document(path: str | Path) -> Any:
    """The parsed YAML or JSON of a scenario file, within the bounds of :mod:`documents`."""
    file = Path(path)
    text = read_text_file(file)
    return parse_document(text, "json" if file.suffix.lower() == ".json" else "yaml", str(file))


def read_text_file(path: str | Path) -> str:
    """The UTF-8 text of a file given on the command line, within the bounds of :mod:`documents`.

    Only a regular file is read (a FIFO or device would block or never end), and only its
    first ``MAX_DOCUMENT_BYTES`` + 1 bytes.
    """
    file = Path(path)
    try:
        info = file.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError("not a regular file", field=str(file), hint="give a YAML file")
        if info.st_size > MAX_DOCUMENT_BYTES:
            raise ScenarioError(
                f"over {MAX_DOCUMENT_BYTES // 1024 // 1024} MB",
                field=str(file),
                hint="a scenario is small",
            )
        with file.open("rb") as handle:
            raw = handle.read(MAX_DOCUMENT_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError(f"no such file: {file}", hint="check the path") from None
    except OSError as exc:
        raise ScenarioError(f"cannot read {file}: {exc.strerror or exc}") from None
    return decode_text(raw, str(file))


def load_scenario(path: str | Path) -> Scenario:
    """Read a YAML or JSON scenario file."""
    file = Path(path)
    data = read_document(file)
    if isinstance(data, dict):
        data = _workload_from_file(data, file.parent)
    scenario = scenario_from_data(data, origin=str(file))
    return _paths_relative_to(scenario, file.parent)


def _workload_from_file(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``workload: {from_file: w.yaml, ...}``: the workload of another file (a scenario, such
    as `llm-tco ingest --out` writes, or a bare workload mapping), relative to this file's
    folder; keys given next to ``from_file`` override the file's."""
    workload = data.get("workload")
    if not isinstance(workload, dict) or "from_file" not in workload:
        return data
    field = "workload.from_file"
    given = workload["from_file"]
    if not isinstance(given, str) or not given:
        raise ScenarioError("must be a path to a YAML or JSON file", field=field)
    path = Path(given) if Path(given).is_absolute() else folder / given
    try:
        loaded = read_document(path)  # the same size and alias limits as the scenario itself
    except ScenarioError as exc:
        exc.field = field
        raise
    if isinstance(loaded, dict) and isinstance(loaded.get("workload"), dict):
        loaded = loaded["workload"]
    if not isinstance(loaded, dict) or "from_file" in loaded:
        raise ScenarioError(
            f"{path} holds no workload mapping",
            field=field,
            hint="point at a scenario or a file of workload keys (`llm-tco ingest --out`)",
        )
    merged = {**loaded, **{k: v for k, v in workload.items() if k != "from_file"}}
    return {**data, "workload": merged}


def _paths_relative_to(scenario: Scenario, folder: Path) -> Scenario:
    """Log and bench-result paths in a file are relative to that file's folder."""

    def resolve(path: str) -> str:
        return path if Path(path).is_absolute() else str(folder / path)

    if scenario.workload.from_logs is not None:
        workload = scenario.workload.model_copy(
            update={"from_logs": resolve(scenario.workload.from_logs)}
        )
        scenario = scenario.model_copy(update={"workload": workload})
    options = []
    for option in scenario.options:
        hosted = option.self_hosted
        if hosted is not None and hosted.bench_result is not None:
            hosted = hosted.model_copy(update={"bench_result": resolve(hosted.bench_result)})
            option = option.model_copy(update={"self_hosted": hosted})
        options.append(option)
    return scenario.model_copy(update={"options": options})
