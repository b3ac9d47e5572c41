"""Read benchmark results made by llm-tco, GuideLLM or ``vllm bench serve`` into one model.

:func:`load_result` detects the format from the JSON's keys:

* llm-tco: ``schema_version`` and ``levels``;
* GuideLLM (0.4 and later): ``benchmarks``, each with per-request ``requests`` and ``metrics``;
* ``vllm bench serve --save-result``: ``output_throughput`` and ``mean_ttft_ms`` (one level).

Where the other tool kept per-request timings they become :class:`RequestRecord`\\ s, so every
figure is recomputed the same way as for our own runs; otherwise its aggregates are kept as the
level's ``reported`` summary.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from llm_tco.bench.metrics import LevelSummary, Percentiles, RequestRecord
from llm_tco.bench.result import BenchResult, LevelResult, parse_result
from llm_tco.errors import BenchError

# Raw per-request timings of a million requests fit; a file past this is not a result.
MAX_RESULT_BYTES = 256 * 1024 * 1024


def _percentiles(data: Mapping[str, Any], name: str) -> Percentiles | None:
    """vLLM's ``mean_/median_/p90_/p99_<name>_ms`` keys as a Percentiles (p90 falls back to p99)."""
    mean, median = data.get(f"mean_{name}_ms"), data.get(f"median_{name}_ms")
    if mean is None or median is None:
        return None
    p99 = data.get(f"p99_{name}_ms")
    p90 = data.get(f"p90_{name}_ms")
    return Percentiles(
        mean=mean,
        p50=median,
        p90=p90 if p90 is not None else (p99 if p99 is not None else median),
        p99=p99 if p99 is not None else (p90 if p90 is not None else median),
    )


def _vllm_records(data: Mapping[str, Any]) -> list[RequestRecord]:
    """Per-request records from ``--save-detailed`` output (needs its ``start_times``)."""
    ttfts: Sequence[float] = data.get("ttfts") or []
    itls: Sequence[Sequence[float]] = data.get("itls") or []
    starts: Sequence[float] | None = data.get("start_times")
    if not ttfts or len(itls) != len(ttfts) or not starts or len(starts) != len(ttfts):
        return []
    origin = min(starts)
    errors = data.get("errors") or [""] * len(ttfts)
    records = []
    for i, ttft in enumerate(ttfts):
        start = starts[i] - origin
        gaps = list(itls[i])
        first = start + ttft
        chunks = [first]
        for gap in gaps:
            chunks.append(chunks[-1] + gap)
        records.append(
            RequestRecord(
                start_s=start,
                first_token_s=first if ttft > 0 else None,
                end_s=chunks[-1],
                chunk_times_s=chunks,
                input_tokens=(data.get("input_lens") or [0] * len(ttfts))[i],
                input_tokens_source="usage",
                output_tokens=(data.get("output_lens") or [0] * len(ttfts))[i],
                output_tokens_source="usage",
                error_kind="protocol" if errors[i] else None,
                error_detail=str(errors[i])[:200] or None,
            )
        )
    return records


def from_vllm(data: Mapping[str, Any]) -> BenchResult:
    """One level from a ``vllm bench serve`` result (aggregates, or detailed per-request lists)."""
    completed = int(data.get("completed", 0))
    failed = int(data.get("failed", 0) or 0)
    duration_s = float(data.get("duration", 0.0))
    summary = LevelSummary(
        requests_completed=completed,
        requests_failed=failed,
        errors={"reported": failed} if failed else {},
        duration_s=duration_s,
        requests_per_second=float(data.get("request_throughput", 0.0)),
        input_tokens_per_second=float(data.get("total_input_tokens", 0)) / duration_s
        if duration_s
        else 0.0,
        output_tokens_per_second=float(data.get("output_throughput", 0.0)),
        error_rate=failed / (completed + failed) if completed + failed else 0.0,
        ttft_ms=_percentiles(data, "ttft"),
        tpot_ms=_percentiles(data, "tpot"),
        itl_ms=_percentiles(data, "itl"),
        e2e_ms=_percentiles(data, "e2el"),
        output_tokens_source="usage",
    )
    records = _vllm_records(data)
    rate = data.get("request_rate")
    concurrency = data.get("max_concurrency")
    level = LevelResult(
        concurrency=int(concurrency) if concurrency else None,
        rate=float(rate)
        if isinstance(rate, int | float) and rate not in (float("inf"),) and rate > 0
        else None,
        arrival="closed" if concurrency else "poisson",
        requests=records,
        reported=None if records else summary,
    )
    return BenchResult(
        tool="vllm",
        model=data.get("model_id"),
        endpoint=data.get("base_url") or data.get("endpoint"),
        profile="concurrency" if concurrency else "rate",
        levels=[level],
        notes=[f"imported from vllm bench serve ({data.get('date', 'undated')})"],
    )


IMPORTERS: dict[str, Callable[[Mapping[str, Any]], BenchResult]] = {
    "vllm": from_vllm,
}


def detect(data: Any) -> str:
    """Which tool wrote ``data``: 'llm-tco', 'guidellm' or 'vllm'."""
    if isinstance(data, dict):
        if "schema_version" in data and "levels" in data:
            return "llm-tco"
        if "benchmarks" in data:
            return "guidellm"
        if "output_throughput" in data and "completed" in data:
            return "vllm"
    raise BenchError(
        "not a benchmark result this tool knows",
        hint="expected an llm-tco result, GuideLLM benchmarks.json or "
        "vllm bench serve --save-result JSON",
    )


def load_result(path: Path | str) -> BenchResult:
    """Read any supported result file (a regular file of at most MAX_RESULT_BYTES) into a
    :class:`BenchResult`."""
    path = Path(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise BenchError("not a regular file", field=path.name)
        if info.st_size > MAX_RESULT_BYTES:
            raise BenchError(
                f"over {MAX_RESULT_BYTES // 1024 // 1024} MB",
                field=path.name,
                hint="a result is smaller",
            )
        with path.open("rb") as handle:
            raw = handle.read(MAX_RESULT_BYTES + 1)
        data = json.loads(raw.decode("utf-8"))
    except FileNotFoundError as exc:
        raise BenchError(f"no such file: {path}", field="result") from exc
    except UnicodeDecodeError as exc:
        raise BenchError(f"not UTF-8 text (byte {exc.start})", field=path.name) from None
    except RecursionError:
        raise BenchError("JSON nested too deeply", field=path.name) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise BenchError(f"cannot read {path.name}: {exc}", field="result") from exc
    return result_from_data(data, where=path.name)


def result_from_data(data: Any, where: str = "result") -> BenchResult:
    """A parsed result document (llm-tco's own, GuideLLM's or vllm bench serve's)."""
    kind = detect(data)
    from llm_tco.bench.guidellm import from_guidellm

    def ours(data: Mapping[str, Any]) -> BenchResult:
        return parse_result(data, where=where)

    importer = {"llm-tco": ours, "guidellm": from_guidellm}.get(kind) or IMPORTERS[kind]
    try:
        return importer(data)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise BenchError(f"unexpected {kind} result layout: {detail}", field=where) from None
