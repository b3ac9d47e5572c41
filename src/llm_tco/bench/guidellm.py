"""Import GuideLLM's ``benchmarks.json`` (0.4 and later; checked against 0.8.1 output).

Each benchmark (one load level) keeps every request with its timings under
``requests.successful / errored / incomplete``; those become :class:`RequestRecord`\\ s, so
throughput and percentiles are recomputed exactly as for our own runs. GuideLLM keeps only the
first and last token times of a request, so inter-token gaps are not available.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llm_tco.bench.metrics import ErrorKind, RequestRecord
from llm_tco.bench.result import BenchResult, LevelResult

_STATUS_KIND: dict[str, ErrorKind | None] = {
    "successful": None,
    "errored": "other",
    "incomplete": "cancelled",
}


def _error_kind(status: str, message: str | None) -> ErrorKind | None:
    kind = _STATUS_KIND.get(status, "other")
    if kind != "other" or not message:
        return kind
    text = message.lower()
    for needle, guess in (
        ("timeout", "timeout"),
        ("timed out", "timeout"),
        ("connect", "connect"),
        ("429", "rate_limited"),
        (" 5", "http_5xx"),
        ("incomplete", "truncated"),
    ):
        if needle in text:
            return guess  # type: ignore[return-value]
    return "other"


def _times(request: Mapping[str, Any]) -> tuple[float | None, float | None, float | None]:
    """(start, first token, end) in the epoch seconds GuideLLM records."""
    timings = (request.get("info") or {}).get("timings") or {}
    start = (
        timings.get("request_start")
        or request.get("request_start_time")
        or request.get("start_time")
    )
    first = (
        timings.get("first_token_iteration")
        or timings.get("first_output_token_iteration")
        or request.get("first_token_time")
    )
    end = timings.get("request_end") or request.get("request_end_time") or request.get("end_time")
    return start, first, end


def _tokens(request: Mapping[str, Any], key: str, legacy: str) -> int:
    metrics = request.get(key) or {}
    value = metrics.get("text_tokens") or metrics.get("total_tokens") or request.get(legacy) or 0
    return int(value)


def _records(requests: Mapping[str, Any], origin: float) -> list[RequestRecord]:
    records = []
    for status in ("successful", "errored", "incomplete"):
        for request in requests.get(status) or []:
            start, first, end = _times(request)
            if start is None or end is None:
                continue
            error = (request.get("info") or {}).get("error") or request.get("error")
            kind = _error_kind(status, error)
            records.append(
                RequestRecord(
                    start_s=start - origin,
                    first_token_s=first - origin if first else None,
                    end_s=end - origin,
                    input_tokens=_tokens(request, "input_metrics", "prompt_tokens"),
                    input_tokens_source="reported",
                    output_tokens=_tokens(request, "output_metrics", "output_tokens"),
                    output_tokens_source="reported",
                    error_kind=kind,
                    error_detail=str(error)[:200] if error else None,
                )
            )
    records.sort(key=lambda r: r.start_s)
    return records


def _level_settings(strategy: Mapping[str, Any]) -> dict[str, Any]:
    kind = strategy.get("type_") or strategy.get("type")
    if kind == "synchronous":
        return {"concurrency": 1, "arrival": "closed"}
    if kind in ("concurrent", "throughput"):
        streams = strategy.get("streams") or strategy.get("max_concurrency")
        return {"concurrency": int(streams) if streams else None, "arrival": "closed"}
    if kind in ("constant", "poisson", "async"):
        rate = strategy.get("rate")
        arrival = "poisson" if kind == "poisson" else "constant"
        return {"rate": float(rate) if rate else None, "arrival": arrival}
    return {"arrival": "closed"}


def from_guidellm(data: Mapping[str, Any]) -> BenchResult:
    levels = []
    model = endpoint = None
    for benchmark in data["benchmarks"]:
        config = benchmark.get("config") or {}
        requests = benchmark.get("requests") or {}
        all_starts = [
            s
            for status in ("successful", "errored", "incomplete")
            for r in requests.get(status) or []
            if (s := _times(r)[0]) is not None
        ]
        origin = min(all_starts, default=0.0)
        levels.append(
            LevelResult(
                requests=_records(requests, origin), **_level_settings(config.get("strategy") or {})
            )
        )
        backend = config.get("backend") or {}
        model = model or backend.get("model")
    spec = ((data.get("config") or {}).get("spec") or {}).get("backend") or {}
    model = model or spec.get("model")
    endpoint = spec.get("target")
    version = (data.get("metadata") or {}).get("guidellm_version", "unknown version")
    return BenchResult(
        tool="guidellm",
        model=model,
        endpoint=endpoint,
        levels=levels,
        notes=[f"imported from GuideLLM {version}; token counts are GuideLLM's"],
    )
