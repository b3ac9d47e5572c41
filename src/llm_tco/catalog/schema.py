"""Pydantic schemas for the catalog's YAML files.

Units are in the field names. GB is 1e9 bytes, TFLOP/s is 1e12 FLOP/s (decimal, as datasheets use).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Row(BaseModel):
    """Every catalog row says where its numbers come from and when they were read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=3, description="URL or document the figures were read from")
    as_of: dt.date = Field(description="date the source states or was read")


class GpuSpec(Row):
    """One accelerator's datasheet figures (dense, i.e. without structured sparsity)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")
    name: str
    vendor: Literal["nvidia", "amd", "intel", "google", "other"]
    aliases: list[str] = []
    memory_gb: float = Field(gt=0)
    memory_bandwidth_gb_per_s: float = Field(gt=0)
    bf16_dense_tflops: float | None = Field(default=None, gt=0)
    fp16_dense_tflops: float | None = Field(
        default=None,
        gt=0,
        description="dense FP16 tensor rate (FP32 accumulate), for GPUs with no BF16 figure "
        "(V100, T4, GeForce cards whose datasheet gives only FP16)",
    )
    fp8_dense_tflops: float | None = Field(default=None, gt=0)
    int8_dense_tops: float | None = Field(default=None, gt=0)
    fp4_dense_tflops: float | None = Field(
        default=None, gt=0, description="dense FP4 (NVFP4/MXFP4) where the GPU has FP4 tensor cores"
    )
    interconnect_gb_per_s: float | None = Field(
        default=None, gt=0, description="per-GPU GPU-to-GPU bandwidth (NVLink/Infinity Fabric)"
    )
    pcie_gb_per_s: float | None = Field(default=None, gt=0)
    nvlink_domain_gpus: int | None = Field(
        default=None,
        ge=1,
        description="GPUs that share one NVLink / Infinity Fabric domain (8 on an HGX board, 72 "
        "in a GB200 NVL72 rack); a replica on more reaches the others over the network",
    )
    scale_out_gb_per_s: float | None = Field(
        default=None,
        gt=0,
        description="per-GPU network (scale-out NIC) bandwidth, one direction, GB/s "
        "(400 Gb/s InfiniBand NDR = 50)",
    )
    tdp_w: float | None = Field(default=None, gt=0)
    purchase_price_usd: float | None = Field(default=None, gt=0)
    purchase_price_source: str | None = None
    notes: str | None = None


class RentalOffer(Row):
    """A public list price for renting GPUs."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    provider: str
    gpu: str = Field(description="GpuSpec.id")
    gpu_count: int = Field(default=1, ge=1)
    price: float = Field(gt=0, description="price of the whole instance (all gpu_count GPUs)")
    price_unit: Literal["hour", "month"]
    currency: Literal["USD", "EUR"] = "USD"
    billing: Literal["on-demand", "spot", "reserved-1y", "reserved-3y", "monthly"] = "on-demand"
    instance: str | None = None
    region: str | None = None
    setup_fee: float | None = Field(default=None, ge=0, description="one-time, same currency")
    notes: str | None = None

    @property
    def price_per_gpu(self) -> float:
        """``price`` for one of the instance's GPUs, same currency and unit."""
        return self.price / self.gpu_count

    @property
    def unit_label(self) -> str:
        """Currency and unit of ``price``: ``USD/h``, ``EUR/month``."""
        return f"{self.currency}/{'h' if self.price_unit == 'hour' else 'month'}"


class MlaSpec(BaseModel):
    """Multi-head latent attention (DeepSeek V2/V3): the KV cache stores a compressed latent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kv_lora_rank: int = Field(gt=0)
    qk_rope_head_dim: int = Field(gt=0)


class ModelArch(Row):
    """An open-weight model's architecture, from its published config.json / model card."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")
    name: str
    hf_repo: str | None = None
    aliases: list[str] = []
    total_params_b: float = Field(gt=0, description="all parameters, billions (every expert)")
    active_params_b: float = Field(gt=0, description="parameters used per token, billions")
    layers: int = Field(gt=0)
    hidden_size: int = Field(gt=0)
    attention_heads: int = Field(gt=0)
    kv_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    intermediate_size: int | None = Field(default=None, gt=0)
    vocab_size: int | None = Field(default=None, gt=0)
    experts: int | None = Field(default=None, gt=0, description="routed experts per MoE layer")
    experts_per_token: int | None = Field(default=None, gt=0)
    shared_experts: int | None = Field(default=None, ge=0)
    moe_intermediate_size: int | None = Field(
        default=None, gt=0, description="per-expert MLP width (moe_intermediate_size)"
    )
    first_dense_layers: int | None = Field(
        default=None, ge=0, description="leading layers with a dense MLP (first_k_dense_replace)"
    )
    moe_layers: int | None = Field(
        default=None,
        gt=0,
        description="layers with routed experts (unset: all but first_dense_layers); fewer where "
        "MoE and dense MLP layers alternate (interleave_moe_layer_step)",
    )
    tie_word_embeddings: bool = Field(
        default=False, description="input embedding and output head share one matrix"
    )
    mla: MlaSpec | None = None
    sliding_window: int | None = Field(default=None, gt=0)
    sliding_window_layers: int | None = Field(
        default=None,
        ge=0,
        description="how many of the layers use the sliding window (unset: all of them)",
    )
    linear_attention_layers: int | None = Field(
        default=None,
        ge=0,
        description="layers with linear attention (a fixed-size state, no growing KV cache)",
    )
    context_length: int = Field(gt=0)
    native_precision: Literal["bf16", "fp16", "fp8", "mxfp4", "int4"] = "bf16"
    license: str | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ModelArch:
        if self.active_params_b > self.total_params_b * 1.0001:
            raise ValueError("active_params_b exceeds total_params_b")
        if self.experts is not None and self.experts_per_token is None:
            raise ValueError("an MoE model needs experts_per_token")
        return self


class ApiPrice(Row):
    """Our own API price row (models genai-prices lacks, or overrides). USD per 1M tokens."""

    id: str = Field(description="model name users type, e.g. glm-4.7")
    provider: str
    aliases: list[str] = []
    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)
    cached_input_per_mtok: float | None = Field(default=None, ge=0)
    cache_write_per_mtok: float | None = Field(default=None, ge=0)
    open_weight: bool = False
    notes: str | None = None


class ProviderTerms(Row):
    """Provider-wide terms: the batch API discount."""

    provider: str
    batch_discount: float = Field(ge=0, le=1, description="share taken off for batch requests")


class OpsDefault(Row):
    """A default for a self-hosting cost the seeds name (engineering, observability, ...)."""

    key: str
    value: float = Field(ge=0)
    low: float | None = Field(default=None, ge=0)
    high: float | None = Field(default=None, ge=0)
    unit: str
    description: str


class RateLimitRow(Row):
    """A provider's published rate limits for one usage tier and model family, per minute."""

    id: str
    provider: str
    tier: str = Field(description="tier name as the scenario gives it, e.g. tier-4")
    models: list[str] = Field(min_length=1, description="model names the limits apply to")
    requests_per_minute: float | None = Field(default=None, gt=0)
    tokens_per_minute: float | None = Field(default=None, gt=0)
    input_tokens_per_minute: float | None = Field(default=None, gt=0)
    output_tokens_per_minute: float | None = Field(default=None, gt=0)
    cached_input_counts: bool = Field(
        default=True, description="whether cache reads count towards the input limit"
    )
    notes: str | None = None

    @model_validator(mode="after")
    def _some_limit(self) -> RateLimitRow:
        limits = (
            self.requests_per_minute,
            self.tokens_per_minute,
            self.input_tokens_per_minute,
            self.output_tokens_per_minute,
        )
        if all(v is None for v in limits):
            raise ValueError("a rate-limit row needs at least one limit")
        return self


class ProvisionedRow(Row):
    """Reserved throughput a provider publishes: per unit, input-equivalent tokens per minute,
    how output and cached tokens count, the smallest purchase and the step; the unit price
    where it is published (with its own source when that differs)."""

    id: str
    provider: str
    offering: str
    models: list[str] = Field(min_length=1)
    unit: str = Field(description="what one unit is called: PTU, model unit, GSU")
    tokens_per_minute_per_unit: float = Field(gt=0)
    output_token_weight: float = Field(default=1.0, ge=0)
    cached_input_counts: bool = True
    min_units: int = Field(default=1, ge=1)
    unit_increment: int = Field(default=1, ge=1)
    unit_price_hourly: float | None = Field(default=None, ge=0)
    unit_price_monthly: float | None = Field(default=None, ge=0)
    price_source: str | None = None
    price_as_of: dt.date | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _price_sourced(self) -> ProvisionedRow:
        priced = self.unit_price_hourly is not None or self.unit_price_monthly is not None
        if priced and (self.price_source is None or self.price_as_of is None):
            raise ValueError("a unit price needs price_source and price_as_of")
        if self.min_units % self.unit_increment:
            raise ValueError("min_units must be a whole number of unit_increment")
        return self
