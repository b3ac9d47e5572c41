"""Read a request log's shape (arrival time, input and output tokens) for replay.

Accepts CSV or JSON Lines with one request per row and the columns ``input_tokens`` and
``output_tokens`` (or OpenAI's ``prompt_tokens`` / ``completion_tokens``) and, optionally,
``timestamp`` (ISO 8601 or Unix seconds). Only shapes and timings are replayed, never content.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from llm_tco.bench.prompts import MAX_PROMPT_TOKENS
from llm_tco.errors import BenchError

INPUT_KEYS = ("input_tokens", "prompt_tokens")
OUTPUT_KEYS = ("output_tokens", "completion_tokens")
TIME_KEYS = ("timestamp", "time", "created", "start_time")
MAX_ROWS = 1_000_000
MAX_ROW_BYTES = 1024 * 1024  # a request's shape is a few numbers; a longer row is not one

Row = tuple[float | None, int, int]


def _lines(handle: Any, name: str) -> Iterator[str]:
    """Lines of at most MAX_ROW_BYTES characters (a longer one is an error, never read whole)."""
    number = 0
    while True:
        line = handle.readline(MAX_ROW_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_ROW_BYTES:
            raise BenchError(f"line {number} is over {MAX_ROW_BYTES // 1024} KiB", field=name)
        yield line


def _rows(path: Path) -> Iterator[Mapping[str, Any]]:
    with path.open(encoding="utf-8", newline="") as handle:
        if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
            for number, line in enumerate(_lines(handle, path.name), 1):
                if line.strip():
                    try:
                        row = json.loads(line)
                    except (json.JSONDecodeError, RecursionError) as exc:
                        raise BenchError(f"line {number}: not JSON", field=path.name) from exc
                    if not isinstance(row, dict):
                        raise BenchError(f"line {number}: not a JSON object", field=path.name)
                    yield row
        else:
            yield from csv.DictReader(_lines(handle, path.name))


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


def _count(value: Any, row: int, name: str) -> int:
    """A token count from a log cell: a whole number from 0 to MAX_PROMPT_TOKENS."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BenchError(
            f"row {row}: '{str(value)[:40]}' is not a token count", field=name
        ) from None
    if not (math.isfinite(number) and 0 <= number <= MAX_PROMPT_TOKENS):
        raise BenchError(
            f"row {row}: {str(value)[:40]} tokens is not a count from 0 to {MAX_PROMPT_TOKENS:,}",
            field=name,
        )
    return int(number)


def read_replay(path: Path, limit: int = MAX_ROWS) -> list[Row]:
    """(arrival seconds or None, input tokens, output tokens) per logged request, in time order."""
    try:
        regular = stat.S_ISREG(path.stat().st_mode)
    except OSError:
        raise BenchError(f"no such file: {path}", field="replay") from None
    if not regular:
        raise BenchError("not a regular file", field="replay")
    try:
        return _read_rows(path, limit)
    except UnicodeDecodeError as exc:
        raise BenchError(f"not UTF-8 text (byte {exc.start})", field=path.name) from None
    except csv.Error as exc:
        raise BenchError(f"not CSV: {exc}", field=path.name) from None


def _read_rows(path: Path, limit: int) -> list[Row]:
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
        except (ValueError, OverflowError) as exc:
            raise BenchError(f"row {index + 1}: bad timestamp: {exc}", field=path.name) from exc
        if arrival is not None and not math.isfinite(arrival):
            raise BenchError(f"row {index + 1}: bad timestamp", field=path.name)
        rows.append(
            (
                arrival,
                _count(input_tokens, index + 1, path.name),
                _count(output_tokens, index + 1, path.name),
            )
        )
    if not rows:
        raise BenchError("the log has no requests", field=path.name)
    if all(r[0] is not None for r in rows):
        rows.sort(key=lambda r: r[0] or 0.0)
    return rows
