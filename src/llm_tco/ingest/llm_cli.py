"""The ``llm`` command-line tool's SQLite log database (``logs.db``).

Schema from llm's migrations: table ``responses`` with ``id``, ``model``, ``datetime_utc``
(ISO 8601 text), ``conversation_id``, ``duration_ms`` and, since migration ``m013_usage``,
``input_tokens``, ``output_tokens`` and ``token_details`` (JSON text with the provider's extra
usage fields, e.g. OpenAI's ``prompt_tokens_details.cached_tokens`` or Anthropic's
``cache_read_input_tokens``). Rows are copied into DuckDB with Python's ``sqlite3`` so no DuckDB
extension has to be downloaded; these databases hold one person's prompts, so they are small.
"""

from __future__ import annotations

import sqlite3
import urllib.parse
from collections.abc import Callable

import duckdb

from llm_tco.errors import LogFormatError
from llm_tco.ingest.sources import Source

SIGNATURES: tuple[tuple[str, ...], ...] = ()  # detected by its ``responses`` table
_COLUMNS = (
    "id",
    "model",
    "datetime_utc",
    "input_tokens",
    "output_tokens",
    "token_details",
    "system",
    "prompt",
)
_BATCH_ROWS = 10_000


def load_sqlite(con: duckdb.DuckDBPyConnection, source: Source) -> str:
    """Copy the ``responses`` table into a DuckDB temp table; returns its name."""
    table = f"llm_responses_{source.index}"
    try:
        # A URI, for read-only mode; the path is percent-encoded so that '#', '?' and '%' in a
        # file name stay part of the name.
        uri = f"file:{urllib.parse.quote(str(source.path.resolve()))}?mode=ro"
        db = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise LogFormatError(f"cannot open SQLite database: {exc}", field=str(source.path)) from exc
    try:
        present = {row[1] for row in db.execute("PRAGMA table_info(responses)")}
        if not present:
            raise LogFormatError(
                "no 'responses' table", field=str(source.path), hint="is this llm's logs.db?"
            )
        picked = [c if c in present else f"NULL AS {c}" for c in _COLUMNS]
        cursor = db.execute(f"SELECT {', '.join(picked)} FROM responses")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} ("
            + ", ".join(f"{c} VARCHAR" for c in _COLUMNS)
            + ")"
        )
        while rows := cursor.fetchmany(_BATCH_ROWS):
            text_rows = [[None if v is None else str(v) for v in row] for row in rows]
            marks = ", ".join("?" for _ in _COLUMNS)
            con.executemany(f"INSERT INTO {table} VALUES ({marks})", text_rows)
    except sqlite3.Error as exc:
        raise LogFormatError(f"cannot read SQLite database: {exc}", field=str(source.path)) from exc
    finally:
        db.close()
    return table


def fields(get: Callable[..., str]) -> dict[str, str]:
    details = get("$.token_details")
    cached = (
        f"CASE WHEN json_valid({details}) THEN coalesce("
        f"json_extract_string({details}, '$.prompt_tokens_details.cached_tokens'), "
        f"json_extract_string({details}, '$.cache_read_input_tokens')) END"
    )
    return {
        "request_id": get("$.id"),
        "ts": get("$.datetime_utc"),
        "model": get("$.model"),
        "input_tokens": get("$.input_tokens"),
        "output_tokens": get("$.output_tokens"),
        "cached_input_tokens": cached,
        "cache_write_tokens": (
            f"CASE WHEN json_valid({details}) THEN "
            f"json_extract_string({details}, '$.cache_creation_input_tokens') END"
        ),
        # The system prompt comes first in what the model reads, so it leads the prefix.
        "prompt": f"nullif(concat_ws(chr(10), {get('$.system')}, {get('$.prompt')}), '')",
        "requests": "1",
    }
