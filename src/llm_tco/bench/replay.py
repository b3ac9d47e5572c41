"""Read a request log's shape (arrival time, input and output tokens) for replay.

Accepts CSV or JSON Lines with one request per row and the columns ``input_tokens`` and
``output_tokens`` (or OpenAI's ``prompt_tokens`` / ``completion_tokens``) and, optionally,
``timestamp`` (ISO 8601 or Unix seconds). Only shapes and timings are replayed, never content.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from llm_tco.errors import BenchError

INPUT_KEYS = ("input_tokens", "prompt_tokens")
OUTPUT_KEYS = ("output_tokens", "completion_tokens")
TIME_KEYS = ("timestamp", "time", "created", "start_time")
MAX_ROWS = 1_000_000

Row = tuple[float | None, int, int]


def _rows(path: Path) -> Iterator[Mapping[str, Any]]:
    with path.open(encoding="utf-8", newline="") as handle:
        if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
            for number, line in enumerate(handle, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise BenchError(f"line {number}: {exc.msg}", field=path.name) from exc
        else:
            yield from csv.DictReader(handle)


def _first(row: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = row.get(key)
        if value not in (None, ""):
            return value
    return None


def _seconds(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.UTC)
        return stamp.timestamp()


def read_replay(path: Path, limit: int = MAX_ROWS) -> list[Row]:
    """(arrival seconds or None, input tokens, output tokens) per logged request, in time order."""
    if not path.exists():
        raise BenchError(f"no such file: {path}", field="replay")
    rows: list[Row] = []
    for index, row in enumerate(_rows(path)):
        if index >= limit:
            break
        input_tokens, output_tokens = _first(row, INPUT_KEYS), _first(row, OUTPUT_KEYS)
        if input_tokens is None or output_tokens is None:
            raise BenchError(
                f"row {index + 1} lacks token counts",
                field=path.name,
                hint="columns input_tokens and output_tokens (or prompt_/completion_tokens)",
            )
        stamp = _first(row, TIME_KEYS)
        try:
            arrival = _seconds(stamp) if stamp is not None else None
            rows.append((arrival, int(float(input_tokens)), int(float(output_tokens))))
        except ValueError as exc:
            raise BenchError(f"row {index + 1}: {exc}", field=path.name) from exc
    if not rows:
        raise BenchError("the log has no requests", field=path.name)
    if all(r[0] is not None for r in rows):
        rows.sort(key=lambda r: r[0] or 0.0)
    return rows
