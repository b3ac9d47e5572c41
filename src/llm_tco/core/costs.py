"""Monthly cost of each way of serving a workload, as line items and as a cost curve over volume.

Every option's monthly cost at total volume V (tokens/month, fixed split and shape) has the form

    cost(V) = fixed + usd_per_token * V + step_usd * steps(V)

where ``steps(V)`` is the replica count when the GPU count follows the load
(``max(min_steps, ceil(V / tokens_per_step)) + extra_steps``) and 0 otherwise. API options are
``usd_per_token * V`` alone. This one shape makes sweeps vectorised and break-even exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llm_tco.core.units import SECONDS_PER_HOUR, TOKENS_PER_MTOK
from llm_tco.core.workload import Workload

FloatArray = NDArray[np.float64]
# Guards ceil() against 2.0000000001 from float division at exact replica boundaries.
STEP_EPS = 1e-9


def replicas_for(
    load: float | FloatArray, per_replica: float | FloatArray, minimum: float = 0
) -> FloatArray:
    """Whole replicas that carry ``load`` at ``per_replica`` each (the one replica round-up),
    at least ``minimum``; ``STEP_EPS`` keeps float error at an exact boundary from adding one.
    Works on floats and on arrays of samples alike (a float gives a 0-d array)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        needed = np.ceil(np.asarray(load, dtype=np.float64) / per_replica - STEP_EPS)
    result: FloatArray = np.maximum(needed, minimum)
    return result


Value = float | FloatArray


def within_capacity(
    tokens_per_month: ArrayLike, capacity_tokens_per_month: ArrayLike
) -> NDArray[np.bool_]:
    """Which volumes a deployment of this monthly capacity can serve (the one rule; float error
    at the exact capacity, up to ``STEP_EPS``, still serves). NaN capacity serves nothing."""
    volume = np.asarray(tokens_per_month, dtype=np.float64)
    result: NDArray[np.bool_] = volume <= np.asarray(capacity_tokens_per_month) * (1 + STEP_EPS)
    return result


@dataclass(frozen=True)
class CostCurve:
    """cost(V) = fixed_usd + usd_per_token * V + step_usd * steps(V), V in tokens/month.

    The one cost-curve type: its parameters are floats (a point) or arrays with one value per
    sample, and ``cost``/``steps`` broadcast; ``tokens_per_step`` is inf when the GPU count is
    fixed (no steps)."""

    fixed_usd: Value = 0.0
    usd_per_token: Value = 0.0
    step_usd: Value = 0.0
    tokens_per_step: Value = math.inf
    min_steps: int = 0
    extra_steps: int = 0

    @property
    def stepped(self) -> bool:
        """Whether a point curve has replica steps (for a curve of samples: any of them)."""
        per_step, step = self.tokens_per_step, self.step_usd
        if isinstance(per_step, float | int) and isinstance(step, float | int):
            return math.isfinite(per_step) and step > 0  # a point: no array round trip
        return bool(np.any(self.stepped_mask))

    @property
    def stepped_mask(self) -> NDArray[np.bool_]:
        mask: NDArray[np.bool_] = np.isfinite(self.tokens_per_step) & (
            np.asarray(self.step_usd) > 0
        )
        return mask

    def steps(self, tokens_per_month: ArrayLike) -> FloatArray:
        volume = np.asarray(tokens_per_month, dtype=np.float64)
        if np.ndim(self.tokens_per_step) == 0 and np.ndim(self.step_usd) == 0:
            if not self.stepped:
                return np.zeros_like(volume)
            return replicas_for(volume, self.tokens_per_step, self.min_steps) + self.extra_steps
        stepped = self.stepped_mask
        safe = np.where(stepped, self.tokens_per_step, 1.0)
        needed = replicas_for(volume, safe, self.min_steps) + self.extra_steps
        result: FloatArray = np.where(stepped, needed, 0.0)
        return result

    def cost(self, tokens_per_month: ArrayLike) -> FloatArray:
        volume = np.asarray(tokens_per_month, dtype=np.float64)
        result: FloatArray = (
            self.fixed_usd + self.usd_per_token * volume + self.step_usd * self.steps(volume)
        )
        return result

    def scaled(self, factor: Value) -> CostCurve:
        """The same curve with every cost times ``factor`` (steps unchanged)."""
        return replace(
            self,
            fixed_usd=self.fixed_usd * factor,
            usd_per_token=self.usd_per_token * factor,
            step_usd=self.step_usd * factor,
        )

    def column(self) -> CostCurve:
        """Parameters as a column (samples x 1), to broadcast against a row of shares."""
        at = (slice(None), None)
        return replace(
            self,
            fixed_usd=np.atleast_1d(self.fixed_usd)[at],
            usd_per_token=np.atleast_1d(self.usd_per_token)[at],
            step_usd=np.atleast_1d(self.step_usd)[at],
            tokens_per_step=np.atleast_1d(self.tokens_per_step)[at],
        )

    @property
    def asymptotic_usd_per_token(self) -> float:
        """Average cost per extra token at large volume (replica cost spread over its tokens)."""
        if not self.stepped:
            return float(self.usd_per_token)
        return float(self.usd_per_token + self.step_usd / self.tokens_per_step)


@dataclass(frozen=True)
class ApiOption:
    """A per-token API: proprietary or hosted open-weight. Prices in USD per 1M tokens.

    ``cache_write_share``: share of input tokens written to the prompt cache, billed at
    ``cache_write_per_mtok`` instead of the input price. ``long_context_share``: share of
    tokens (input and output alike) in requests whose prompt is over the provider's
    long-context threshold; passing it puts every token of the request on the ``long_*``
    rates (the "cliff" rule of Anthropic and Google), so those tokens pay the difference.
    """

    name: str
    input_per_mtok: float
    output_per_mtok: float
    cached_input_per_mtok: float
    batch_discount: float = 0.0
    retry_rate: float = 0.0
    acceptance_rate: float = 1.0
    cache_write_per_mtok: float = 0.0
    cache_write_share: float = 0.0
    long_context_share: float = 0.0
    long_input_per_mtok: float = 0.0
    long_output_per_mtok: float = 0.0
    long_cached_input_per_mtok: float = 0.0
    long_cache_write_per_mtok: float = 0.0


def _any(value: float | FloatArray) -> bool:
    return bool(np.any(np.asarray(value) != 0))


def api_line_items(option: ApiOption, workload: Workload) -> dict[str, float]:
    """Monthly USD per line item; they sum to the monthly cost.

    Cached input is billed at the cache-read price, cache writes at the cache-write price,
    the rest of the input at the input price; tokens of long-context requests pay the
    long-context rates (the ``long_context`` item is the difference); the batch discount
    applies to the batch-eligible share of every token class; retries re-send the same mix
    ``retry_rate`` times. ``cache_write`` and ``long_context`` appear only when used.
    """
    cached = workload.input_tokens_per_month * workload.api_cached_input_share
    written = workload.input_tokens_per_month * option.cache_write_share
    uncached = workload.input_tokens_per_month - cached - written
    output = workload.output_tokens_per_month
    items = {
        "input": uncached * option.input_per_mtok / TOKENS_PER_MTOK,
        "cached_input": cached * option.cached_input_per_mtok / TOKENS_PER_MTOK,
        "output": output * option.output_per_mtok / TOKENS_PER_MTOK,
    }
    if _any(option.cache_write_share):
        items["cache_write"] = written * option.cache_write_per_mtok / TOKENS_PER_MTOK
    if _any(option.long_context_share):
        extra = (
            uncached * (option.long_input_per_mtok - option.input_per_mtok)
            + cached * (option.long_cached_input_per_mtok - option.cached_input_per_mtok)
            + written * (option.long_cache_write_per_mtok - option.cache_write_per_mtok)
            + output * (option.long_output_per_mtok - option.output_per_mtok)
        )
        items["long_context"] = option.long_context_share * extra / TOKENS_PER_MTOK
    list_price = sum(items.values())
    items["batch_discount"] = -list_price * workload.batch_share * option.batch_discount
    items["retries"] = (list_price + items["batch_discount"]) * option.retry_rate
    return items


def api_usd_per_token(option: ApiOption, workload: Workload) -> float | FloatArray:
    """The month's API cost over its tokens: the cost of one token of this workload's mix.

    At zero volume there is no mix: one token split evenly, as :meth:`Workload.scaled_to` does.
    Works on floats and on arrays of samples alike.
    """
    total = workload.input_tokens_per_month + workload.output_tokens_per_month
    monthly = sum(api_line_items(option, workload).values())
    positive = np.asarray(total) > 0
    if np.all(positive):
        per_token = np.asarray(monthly / total)
    else:
        unit = replace(workload, input_tokens_per_month=0.5, output_tokens_per_month=0.5)
        at_unit = sum(api_line_items(option, unit).values())
        with np.errstate(divide="ignore", invalid="ignore"):
            per_token = np.where(positive, monthly / np.where(positive, total, 1.0), at_unit)
    if np.ndim(per_token) == 0:
        return float(per_token)
    result: FloatArray = per_token
    return result


def api_curve(option: ApiOption, workload: Workload) -> CostCurve:
    """API cost is linear through zero: the cost of one token of this workload's mix, times V."""
    return CostCurve(usd_per_token=float(api_usd_per_token(option, workload)))


@dataclass(frozen=True)
class SelfHostedOption:
    """A self-hosted deployment: replicas of ``gpus_per_replica`` GPUs plus fixed ops costs.

    ``replicas`` None means the count follows the peak load (``gpu_count: auto``), which needs
    ``capacity_tokens_per_second`` (total tokens/s one replica serves at the workload's shape).
    Prices, rates and capacity are floats, or arrays with one value per sample.
    """

    name: str
    gpu_monthly_usd: Value
    gpus_per_replica: int
    replicas: int | None
    capacity_tokens_per_second: Value | None
    hours_per_month: Value
    power_monthly_usd_per_gpu: Value = 0.0
    redundancy_replicas: int = 0
    unused_gpus: int = 0  # paid for but not part of any replica (gpu_count not a multiple)
    fixed_items: tuple[tuple[str, Value], ...] = field(default_factory=tuple)
    variable_per_mtok: Value = 0.0
    retry_rate: Value = 0.0
    acceptance_rate: float = 1.0
    min_replicas: int = 1

    @property
    def replica_monthly_usd(self) -> Value:
        return self.gpus_per_replica * (self.gpu_monthly_usd + self.power_monthly_usd_per_gpu)

    def tokens_per_replica_month(self, peak_to_mean: Value) -> Value | None:
        """Base tokens/month one replica carries while its peak stays within capacity."""
        if self.capacity_tokens_per_second is None:
            return None
        seconds = self.hours_per_month * SECONDS_PER_HOUR
        return self.capacity_tokens_per_second * seconds / (peak_to_mean * (1.0 + self.retry_rate))

    def capacity_tokens_per_month(
        self, peak_to_mean: Value, replicas: Value | None = None
    ) -> Value | None:
        """Base tokens/month ``replicas`` replicas carry (default: the fixed count) while the
        peak stays within capacity; None when the capacity or the count is not known (a
        ``gpu_count: auto`` deployment adds replicas with the load)."""
        count = self.replicas if replicas is None else replicas
        per_replica = self.tokens_per_replica_month(peak_to_mean)
        if count is None or per_replica is None:
            return None
        return per_replica * count


def self_hosted_curve(option: SelfHostedOption, workload: Workload) -> CostCurve:
    fixed: Value = sum((amount for _, amount in option.fixed_items), 0.0)
    per_token = option.variable_per_mtok * (1.0 + option.retry_rate) / TOKENS_PER_MTOK
    spare = option.redundancy_replicas * option.replica_monthly_usd
    fixed = fixed + option.unused_gpus * (option.gpu_monthly_usd + option.power_monthly_usd_per_gpu)
    if option.replicas is not None:
        return CostCurve(
            fixed_usd=fixed + option.replicas * option.replica_monthly_usd + spare,
            usd_per_token=per_token,
        )
    tokens_per_step = option.tokens_per_replica_month(workload.peak_to_mean)
    if tokens_per_step is None or (np.ndim(tokens_per_step) == 0 and tokens_per_step <= 0):
        raise ValueError("gpu_count auto needs a per-replica capacity")
    return CostCurve(
        fixed_usd=fixed,
        usd_per_token=per_token,
        step_usd=option.replica_monthly_usd,
        tokens_per_step=tokens_per_step,
        min_steps=option.min_replicas,
        extra_steps=option.redundancy_replicas,
    )


def replica_count(option: SelfHostedOption, workload: Workload) -> Value | None:
    """Replicas serving the workload: the fixed count, or those whose capacity covers the peak
    load (None when capacity is unknown); a float, or an array of samples."""
    if option.replicas is not None:
        return float(option.replicas)
    tokens_per_step = option.tokens_per_replica_month(workload.peak_to_mean)
    if tokens_per_step is None:
        return None
    needed = replicas_for(workload.total_tokens_per_month, tokens_per_step, option.min_replicas)
    return float(needed) if np.ndim(needed) == 0 else needed


def replicas_needed(option: SelfHostedOption, workload: Workload) -> int | None:
    """Replicas whose capacity covers the peak load of a point workload (None when capacity is
    unknown)."""
    tokens_per_step = option.tokens_per_replica_month(workload.peak_to_mean)
    if tokens_per_step is None:
        return None
    return int(replicas_for(workload.total_tokens_per_month, tokens_per_step, option.min_replicas))


def self_hosted_line_items(option: SelfHostedOption, workload: Workload) -> dict[str, Value]:
    """Monthly USD per line item; they sum to the monthly cost (floats, or arrays of samples)."""
    replicas: Value | None = option.replicas
    if replicas is None:
        replicas = replica_count(option, workload)
        if replicas is None:
            raise ValueError("gpu_count auto needs a per-replica capacity")
        if np.ndim(replicas) == 0:
            replicas = int(replicas)
    gpus = replicas * option.gpus_per_replica + option.unused_gpus
    items: dict[str, Value] = {"gpus": gpus * option.gpu_monthly_usd}
    if np.any(option.power_monthly_usd_per_gpu):
        items["power"] = gpus * option.power_monthly_usd_per_gpu
    if option.redundancy_replicas:
        items["redundancy"] = option.redundancy_replicas * option.replica_monthly_usd
    for name, amount in option.fixed_items:
        items[name] = items.get(name, 0.0) + amount
    if np.any(option.variable_per_mtok):
        tokens = workload.total_tokens_per_month * (1.0 + option.retry_rate)
        items["variable"] = tokens * option.variable_per_mtok / TOKENS_PER_MTOK
    return items
