"""The saved benchmark result: a versioned pydantic model, raw requests in, metrics derived.

Each load level keeps its raw :class:`RequestRecord` list; its summary fields (throughput,
percentiles, errors, cost) are computed properties that appear in the JSON so other tools can
read them without this package. A level imported from another tool that kept only aggregates
carries them in ``reported`` instead, and the same fields read from there.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field, model_validator

from llm_tco.bench.cost import deployments_needed, usd_per_mtok
from llm_tco.bench.metrics import (
    LevelSummary,
    Percentiles,
    RequestRecord,
    slo_attainment,
    summarise,
)
from llm_tco.errors import BenchError

SCHEMA_VERSION: Literal[1] = 1
DEFAULT_ATTAINMENT = 0.95
# Fields a summary-only JSON (``--format json`` without raw requests) carries on each level.
_SUMMARY_KEYS = set(LevelSummary.model_fields)


class Slo(BaseModel):
    """Latency targets a request must meet, and the share of requests that must meet them."""

    model_config = ConfigDict(extra="forbid")

    ttft_ms: float | None = Field(default=None, gt=0)
    tpot_ms: float | None = Field(default=None, gt=0)
    attainment: float = Field(default=DEFAULT_ATTAINMENT, gt=0, le=1)


class Pricing(BaseModel):
    """What the benchmarked deployment costs to rent."""

    model_config = ConfigDict(extra="forbid")

    hourly_usd: float = Field(ge=0, description="the whole deployment (all its GPUs), USD/hour")
    gpu: str | None = None
    gpu_count: int = Field(default=1, ge=1)
    offer: str | None = Field(default=None, description="catalog offer id, when priced from one")
    source: str = Field(default="--hourly", description="where the price comes from")


class LevelResult(BaseModel):
    """One load level: its settings, its raw requests, and the figures derived from them."""

    model_config = ConfigDict(extra="ignore")

    concurrency: int | None = Field(default=None, ge=1)
    rate: float | None = Field(default=None, gt=0, description="requests/s offered")
    arrival: Literal["closed", "constant", "poisson", "replay"] = "closed"
    requests: list[RequestRecord] = Field(default_factory=list)
    reported: LevelSummary | None = Field(
        default=None, description="aggregates from a tool that kept no per-request data"
    )
    slo: Slo | None = None
    hourly_usd: float | None = Field(default=None, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _summary_only(cls, data: Any) -> Any:
        """A level saved without raw requests reads its figures back into ``reported``."""
        if isinstance(data, dict) and not data.get("requests") and not data.get("reported"):
            summary = {k: v for k, v in data.items() if k in _SUMMARY_KEYS}
            if summary:
                data = {**data, "reported": summary}
        return data

    @cached_property
    def _summary(self) -> LevelSummary:
        if not self.requests and self.reported is not None:
            return self.reported
        return summarise(self.requests)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def requests_completed(self) -> int:
        return self._summary.requests_completed

    @computed_field  # type: ignore[prop-decorator]
    @property
    def requests_failed(self) -> int:
        return self._summary.requests_failed

    @computed_field  # type: ignore[prop-decorator]
    @property
    def errors(self) -> dict[str, int]:
        return self._summary.errors

    @computed_field  # type: ignore[prop-decorator]
    @property
    def duration_s(self) -> float:
        return self._summary.duration_s

    @computed_field  # type: ignore[prop-decorator]
    @property
    def requests_per_second(self) -> float:
        return self._summary.requests_per_second

    @computed_field  # type: ignore[prop-decorator]
    @property
    def input_tokens_per_second(self) -> float:
        return self._summary.input_tokens_per_second

    @computed_field  # type: ignore[prop-decorator]
    @property
    def output_tokens_per_second(self) -> float:
        return self._summary.output_tokens_per_second

    @computed_field  # type: ignore[prop-decorator]
    @property
    def error_rate(self) -> float:
        return self._summary.error_rate

    @computed_field  # type: ignore[prop-decorator]
    @property
    def retry_rate(self) -> float:
        return self._summary.retry_rate

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ttft_ms(self) -> Percentiles | None:
        return self._summary.ttft_ms

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tpot_ms(self) -> Percentiles | None:
        return self._summary.tpot_ms

    @computed_field  # type: ignore[prop-decorator]
    @property
    def itl_ms(self) -> Percentiles | None:
        return self._summary.itl_ms

    @computed_field  # type: ignore[prop-decorator]
    @property
    def e2e_ms(self) -> Percentiles | None:
        return self._summary.e2e_ms

    @computed_field  # type: ignore[prop-decorator]
    @property
    def output_tokens_source(self) -> str | None:
        """'usage' when the server reported counts, 'chunks' when counted from the stream."""
        return self._summary.output_tokens_source

    @computed_field  # type: ignore[prop-decorator]
    @property
    def slo_attainment(self) -> float | None:
        if self.slo is None or not self.requests:
            return None
        return slo_attainment(self.requests, self.slo.ttft_ms, self.slo.tpot_ms)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def usd_per_mtok_output(self) -> float | None:
        if self.hourly_usd is None:
            return None
        return usd_per_mtok(self.hourly_usd, self.output_tokens_per_second)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def usd_per_mtok_total(self) -> float | None:
        """Per million input + output tokens, for comparing with a blended API price."""
        if self.hourly_usd is None:
            return None
        total = self.input_tokens_per_second + self.output_tokens_per_second
        return usd_per_mtok(self.hourly_usd, total)

    @property
    def label(self) -> str:
        if self.concurrency is not None:
            return f"concurrency {self.concurrency}"
        if self.rate is not None:
            return f"{self.arrival} {self.rate:g} req/s"
        return self.arrival

    def meets(self, ttft_ms: float | None, tpot_ms: float | None, attainment: float) -> bool:
        """Whether the level met the targets; aggregate-only levels are judged on their p90/p99."""
        if self.requests:
            return slo_attainment(self.requests, ttft_ms, tpot_ms) >= attainment
        pct = "p90" if attainment <= 0.90 else "p99"
        for target, dist in ((ttft_ms, self.ttft_ms), (tpot_ms, self.tpot_ms)):
            if target is not None and (dist is None or getattr(dist, pct) > target):
                return False
        return self.requests_completed > 0


class PeakDemand(BaseModel):
    """A scenario's peak load, to say how many benchmarked deployments carry it."""

    model_config = ConfigDict(extra="forbid")

    output_tokens_per_second: float = Field(ge=0)
    source: str = "flag"


class BenchResult(BaseModel):
    """A whole benchmark run (or an imported one). Saved as JSON with ``schema_version``."""

    model_config = ConfigDict(extra="ignore")

    schema_version: Literal[1] = SCHEMA_VERSION
    tool: str = Field(default="llm-tco", description="what measured it: llm-tco, guidellm, vllm")
    created_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))
    endpoint: str | None = None
    model: str | None = None
    api: Literal["completions", "chat"] = "completions"
    profile: str = "concurrency"
    workload: dict[str, Any] = Field(default_factory=dict, description="prompt shape used")
    slo: Slo | None = None
    pricing: Pricing | None = None
    peak: PeakDemand | None = None
    interrupted: bool = False
    notes: list[str] = Field(default_factory=list)
    levels: list[LevelResult] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def saturation_output_tokens_per_second(self) -> float:
        """The highest output throughput any level reached."""
        return max((lv.output_tokens_per_second for lv in self.levels), default=0.0)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def deployments_needed(self) -> int | None:
        """How many deployments like the benchmarked one carry the scenario's peak."""
        if self.peak is None:
            return None
        slo = self.slo or Slo()
        try:
            output_tps, _, _ = self.capacity_at_slo(slo.ttft_ms, slo.tpot_ms)
            return deployments_needed(self.peak.output_tokens_per_second, output_tps)
        except BenchError:
            return None  # no level met the SLO, or nothing was served: no count follows

    def best_level(self, ttft_ms: float | None, tpot_ms: float | None) -> LevelResult:
        """The highest-throughput level meeting the SLO; the saturation level when none is given."""
        if not self.levels:
            raise BenchError("the result has no load levels")
        attainment = self.slo.attainment if self.slo else DEFAULT_ATTAINMENT
        if ttft_ms is None and tpot_ms is None:
            candidates = self.levels
        else:
            candidates = [lv for lv in self.levels if lv.meets(ttft_ms, tpot_ms, attainment)]
        if not candidates:
            raise BenchError(
                "no load level of the benchmark meets the SLO",
                field="slo",
                hint="benchmark at lower load, or relax --ttft-slo / --tpot-slo",
            )
        return max(candidates, key=lambda lv: lv.output_tokens_per_second)

    def capacity_at_slo(
        self, ttft_ms: float | None, tpot_ms: float | None
    ) -> tuple[float, float, float]:
        """(output tokens/s, input tokens/s, requests/s) of the best level meeting the SLO."""
        level = self.best_level(ttft_ms, tpot_ms)
        return (
            level.output_tokens_per_second,
            level.input_tokens_per_second,
            level.requests_per_second,
        )

    def with_pricing(self, pricing: Pricing | None) -> BenchResult:
        levels = [
            lv.model_copy(update={"hourly_usd": pricing.hourly_usd if pricing else None})
            for lv in self.levels
        ]
        return self.model_copy(update={"pricing": pricing, "levels": levels})

    def to_json(self, *, raw: bool = True) -> str:
        """JSON text; ``raw=False`` leaves out per-request records (the summary still loads)."""
        data = self.model_dump(
            mode="json", exclude={"levels": {"__all__": {"requests"}}} if not raw else None
        )
        if not raw:
            for level in data["levels"]:
                level.pop("reported", None)
        return json.dumps(data, indent=2)

    def save(self, path: Path) -> None:
        path.write_text(self.to_json(raw=True), encoding="utf-8")


def parse_result(data: Any, *, where: str = "result") -> BenchResult:
    """Validate a dict as a saved result, with an error that says what is wrong."""
    if not isinstance(data, dict):
        raise BenchError("a benchmark result must be a JSON object", field=where)
    version = data.get("schema_version")
    if version is not None and version != SCHEMA_VERSION:
        raise BenchError(
            f"result schema version {version} is not supported "
            f"(this llm-tco reads {SCHEMA_VERSION})",
            field=where,
            hint="re-run the benchmark with this version",
        )
    try:
        return BenchResult.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise BenchError(f"{loc}: {first['msg']}", field=where) from exc
