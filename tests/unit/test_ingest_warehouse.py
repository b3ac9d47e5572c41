"""The Ibis path on two local backends gives the same summary as the embedded engine."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest

from llm_tco.ingest import ingest

pytest.importorskip("ibis", reason='Ibis is not installed: pip install -e ".[warehouse]"')

DATA = Path(__file__).parent.parent / "data" / "ingest"
# months.csv's three rows, one of them repeated, one without a time, one negative.
ROWS = [
    ("m1", "2025-01-01 00:00:00", "gpt-4o-mini", 1000, 100, 0, False),
    ("m2", "2025-02-10 12:00:00", "gpt-4o-mini", 3000, 300, 1000, True),
    ("m3", "2025-03-01 23:00:00", "gpt-4o-mini", 500, 50, 0, False),
    ("m2", "2025-02-10 12:00:00", "gpt-4o-mini", 3000, 300, 1000, True),
    ("m9", None, "gpt-4o-mini", 1, 1, 0, False),
    ("m10", "2025-02-11 12:00:00", "gpt-4o-mini", -1, 1, 0, False),
]
SCHEMA = (
    "request_id TEXT, timestamp TIMESTAMP, model TEXT, input_tokens BIGINT, "
    "output_tokens BIGINT, cached_input_tokens BIGINT, batch BOOLEAN"
)


def duckdb_url(tmp_path: Path) -> str:
    path = tmp_path / "logs.duckdb"
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE logs ({SCHEMA})")
    con.executemany("INSERT INTO logs VALUES (?, ?, ?, ?, ?, ?, ?)", ROWS)
    con.close()
    return f"duckdb://{path}"


def sqlite_url(tmp_path: Path) -> str:
    path = tmp_path / "logs.sqlite"
    db = sqlite3.connect(path)
    db.execute(f"CREATE TABLE logs ({SCHEMA})")
    db.executemany("INSERT INTO logs VALUES (?, ?, ?, ?, ?, ?, ?)", ROWS)
    db.commit()
    db.close()
    return f"sqlite://{path}"


@pytest.mark.parametrize("make_url", [duckdb_url, sqlite_url])
def test_warehouse_matches_embedded_engine(tmp_path: Path, make_url) -> None:  # type: ignore[no-untyped-def]
    s = ingest([], backend=make_url(tmp_path), table="logs", price=None)
    assert s.rows_read == 6
    assert s.rows_rejected == {
        "duplicate_request_id": 1,
        "missing_timestamp": 1,
        "negative_tokens": 1,
    }
    embedded = ingest([DATA / "months.csv"], price=None)
    # Both count the per-request shapes (arrivals per minute, length histograms) too.
    assert s.groups["all"].shape is not None
    assert s.groups["all"].model_dump() == embedded.groups["all"].model_dump()


def test_warehouse_group_by_model(tmp_path: Path) -> None:
    s = ingest([], backend=duckdb_url(tmp_path), table="logs", by="model", price=None)
    assert s.groups["gpt-4o-mini"].input_tokens == 4500


def test_unknown_table_is_a_clean_error(tmp_path: Path) -> None:
    from llm_tco.errors import LogFormatError

    with pytest.raises(LogFormatError, match="no table 'nope'"):
        ingest([], backend=duckdb_url(tmp_path), table="nope", price=None)
