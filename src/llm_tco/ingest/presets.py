"""Known log tables, by the tool that writes them: table and column names, and how each maps to
the canonical request row (``canonical.CANONICAL_COLUMNS``).

* ``litellm``: LiteLLM proxy's ``LiteLLM_SpendLogs`` (PostgreSQL), as its Prisma schema defines
  it: https://github.com/BerriAI/litellm/blob/main/schema.prisma (``model LiteLLM_SpendLogs``).
  Columns read: ``request_id``, ``"startTime"``, ``model``, ``prompt_tokens``,
  ``completion_tokens``, ``spend`` (USD), ``api_key`` (hashed), ``request_tags`` (JSON list,
  first tag is the workload tag), ``metadata`` (JSON; cached prompt tokens at
  ``usage_object.prompt_tokens_details.cached_tokens``).
* ``langfuse``: Langfuse's ClickHouse ``observations`` table, as its migration creates it:
  https://github.com/langfuse/langfuse/blob/main/packages/shared/clickhouse/migrations/canonical/0002_observations.up.sql
  Columns read: ``id``, ``type`` (only ``GENERATION`` rows are model calls), ``start_time``,
  ``name`` (workload tag), ``provided_model_name``, ``usage_details`` (a map: ``input``,
  ``output``, and a cached key ``input_cached_tokens``, ``cache_read_input_tokens`` or
  ``input_cache_read``), ``total_cost`` (USD), ``is_deleted``.
* ``otel-clickhouse``: the OpenTelemetry Collector ClickHouse exporter's ``otel_traces``:
  https://github.com/open-telemetry/opentelemetry-collector-contrib/blob/main/exporter/clickhouseexporter/internal/sqltemplates/traces_table.sql
  Columns read: ``Timestamp``, ``SpanId``, ``ServiceName`` (workload tag), ``SpanAttributes``
  (a map of text values with the GenAI semantic conventions' ``gen_ai.usage.input_tokens``,
  ``gen_ai.usage.output_tokens``, ``gen_ai.usage.cache_read.input_tokens``,
  ``gen_ai.response.model``, ``gen_ai.request.model``; older spans' ``gen_ai.usage.prompt_tokens``
  and ``gen_ai.usage.completion_tokens``). Spans without them are skipped, not rejected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Expr = Any  # an Ibis expression


@dataclass(frozen=True)
class Canonical:
    """Ibis expressions for the canonical columns of one log table (None: not logged).

    Token counts, requests and billed USD may be numeric or text columns; the engine converts
    them and rejects text that is not a number.
    """

    ts: Expr
    input_tokens: Expr
    output_tokens: Expr
    request_id: Expr = None
    model: Expr = None
    cached_input_tokens: Expr = None
    requests: Expr = None
    batch: Expr = None
    tag: Expr = None
    key: Expr = None
    billed_usd: Expr = None
    skips: tuple[tuple[Expr, str], ...] = ()  # (condition, reason): counted, not rejected


@dataclass(frozen=True)
class Preset:
    table: str
    source: str
    required: tuple[str, ...]
    build: Callable[[Any, Any], Canonical]
    optional: tuple[str, ...] = field(default=())

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


def _json_path(value: Expr, *path: str | int) -> Expr:
    for step in path:
        value = value[step]
    return value


def _litellm(ibis: Any, t: Any) -> Canonical:
    cols = set(t.columns)
    cached = None
    if "metadata" in cols and t.metadata.type().is_json():
        cached = _json_path(
            t.metadata, "usage_object", "prompt_tokens_details", "cached_tokens"
        ).float
    tag = None
    if "request_tags" in cols and t.request_tags.type().is_json():
        tag = t.request_tags[0].str
    return Canonical(
        request_id=t.request_id,
        ts=t.startTime,
        model=t.model,
        input_tokens=t.prompt_tokens,
        output_tokens=t.completion_tokens,
        cached_input_tokens=cached,
        tag=tag,
        key=t.api_key if "api_key" in cols else None,
        billed_usd=t.spend if "spend" in cols else None,
    )


def _langfuse(ibis: Any, t: Any) -> Canonical:
    usage = t.usage_details
    cached = ibis.coalesce(
        usage.get("input_cached_tokens"),
        usage.get("cache_read_input_tokens"),
        usage.get("input_cache_read"),
    )
    skips = (
        (t.is_deleted.cast("int64") != 0, "deleted"),
        (t.type.upper() != "GENERATION", "not_a_generation"),
    )
    return Canonical(
        request_id=t.id,
        ts=t.start_time,
        model=t.provided_model_name,
        input_tokens=usage.get("input"),
        output_tokens=usage.get("output"),
        cached_input_tokens=cached,
        tag=t.name,
        billed_usd=t.total_cost.cast("float64") if "total_cost" in t.columns else None,
        skips=skips,
    )


_OTEL_KEYS = {
    "input": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"),
    "output": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"),
    "cached": ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens"),
    "model": ("gen_ai.response.model", "gen_ai.request.model"),
}


def _otel(ibis: Any, t: Any) -> Canonical:
    attrs = t.SpanAttributes

    def attr(name: str) -> Expr:
        values = [attrs.get(k) for k in _OTEL_KEYS[name]]
        return ibis.coalesce(*values)

    genai = [attrs.contains(k) for keys in _OTEL_KEYS.values() for k in keys]
    any_genai = genai[0]
    for flag in genai[1:]:
        any_genai = any_genai | flag
    return Canonical(
        request_id=t.SpanId,
        ts=t.Timestamp,
        model=attr("model"),
        input_tokens=attr("input"),
        output_tokens=attr("output"),
        cached_input_tokens=attr("cached"),
        tag=t.ServiceName,
        skips=((~any_genai, "not_a_genai_span"),),
    )


PRESETS: dict[str, Preset] = {
    "litellm": Preset(
        table="LiteLLM_SpendLogs",
        source="https://github.com/BerriAI/litellm/blob/main/schema.prisma",
        required=("request_id", "startTime", "model", "prompt_tokens", "completion_tokens"),
        optional=("spend", "api_key", "request_tags", "metadata"),
        build=_litellm,
    ),
    "langfuse": Preset(
        table="observations",
        source=(
            "https://github.com/langfuse/langfuse/blob/main/packages/shared/clickhouse/"
            "migrations/canonical/0002_observations.up.sql"
        ),
        required=(
            "id",
            "type",
            "start_time",
            "name",
            "provided_model_name",
            "usage_details",
            "is_deleted",
        ),
        optional=("total_cost",),
        build=_langfuse,
    ),
    "otel-clickhouse": Preset(
        table="otel_traces",
        source=(
            "https://github.com/open-telemetry/opentelemetry-collector-contrib/blob/main/"
            "exporter/clickhouseexporter/internal/sqltemplates/traces_table.sql"
        ),
        required=("Timestamp", "SpanId", "ServiceName", "SpanAttributes"),
        build=_otel,
    ),
}
