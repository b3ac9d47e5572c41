"""``--preset litellm|langfuse|otel-clickhouse`` against tables of the upstream shape.

No ClickHouse server runs here: the Langfuse and OpenTelemetry presets are tested on DuckDB
tables with the same column names and the closest types (ClickHouse ``Map(String, UInt64)`` as
DuckDB ``MAP(VARCHAR, UBIGINT)``, ``DateTime64`` as ``TIMESTAMP``), built from the upstream
CREATE TABLE statements cited in ``llm_tco.ingest.presets``. LiteLLM's table is tested here on
DuckDB (``JSON`` for ``JSONB``) and on a real PostgreSQL in the integration tests. Every
expected figure is counted by hand from the rows below.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llm_tco.errors import LogFormatError
from llm_tco.ingest import ingest
from llm_tco.ingest.presets import PRESETS
from warehouse_rows import LITELLM_ROWS

pytest.importorskip("ibis", reason='Ibis is not installed: pip install -e ".[warehouse]"')
duckdb = pytest.importorskip("duckdb", reason="DuckDB is not installed: pip install -e .")


def duckdb_with(tmp_path: Path, ddl: str, insert: str, rows: list[tuple[Any, ...]]) -> str:
    path = tmp_path / "logs.duckdb"
    con = duckdb.connect(str(path))
    con.execute(ddl)
    con.executemany(insert, rows)
    con.close()
    return f"duckdb://{path}"


LITELLM_DDL = """CREATE TABLE "LiteLLM_SpendLogs" (
    request_id VARCHAR PRIMARY KEY, call_type VARCHAR NOT NULL, api_key VARCHAR DEFAULT '',
    spend DOUBLE DEFAULT 0, total_tokens INTEGER DEFAULT 0, prompt_tokens INTEGER DEFAULT 0,
    completion_tokens INTEGER DEFAULT 0, "startTime" TIMESTAMP NOT NULL,
    "endTime" TIMESTAMP NOT NULL, model VARCHAR DEFAULT '', model_group VARCHAR,
    metadata JSON, cache_hit VARCHAR, request_tags JSON, team_id VARCHAR, end_user VARCHAR)"""


def test_litellm_preset(tmp_path: Path) -> None:
    url = duckdb_with(
        tmp_path,
        LITELLM_DDL,
        'INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, '
        'prompt_tokens, completion_tokens, total_tokens, "startTime", "endTime", model, '
        "metadata, request_tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        LITELLM_ROWS,
    )
    s = ingest([], backend=url, preset="litellm", price=None)
    assert s.rows_read == 7
    assert s.rows_rejected == {
        "negative_tokens": 1,
        "bad_timestamp": 1,
        "too_many_tokens": 1,
        "cached_exceeds_input": 1,
    }
    g = s.groups["all"]
    assert (g.requests, g.input_tokens, g.output_tokens) == (3, 600, 230)
    assert g.cached_input_tokens == 40
    assert g.billed_usd == pytest.approx(0.00125)
    tags = ingest([], backend=url, preset="litellm", by="workload-tag", price=None).groups
    assert (tags["support-bot"].input_tokens, tags["rag"].input_tokens) == (400, 200)
    keys = ingest([], backend=url, preset="litellm", by="key", price=None).groups
    assert (keys["hashed-a"].requests, keys["hashed-b"].requests) == (2, 1)


# Langfuse's ClickHouse `observations` (migrations/canonical/0002_observations.up.sql).
LANGFUSE_DDL = """CREATE TABLE observations (
    id VARCHAR, trace_id VARCHAR, project_id VARCHAR, type VARCHAR,
    parent_observation_id VARCHAR, start_time TIMESTAMP, end_time TIMESTAMP, name VARCHAR,
    metadata MAP(VARCHAR, VARCHAR), level VARCHAR, provided_model_name VARCHAR,
    internal_model_id VARCHAR, provided_usage_details MAP(VARCHAR, UBIGINT),
    usage_details MAP(VARCHAR, UBIGINT), cost_details MAP(VARCHAR, DECIMAL(18, 12)),
    total_cost DECIMAL(18, 12), created_at TIMESTAMP, updated_at TIMESTAMP,
    event_ts TIMESTAMP, is_deleted UTINYINT)"""
LANGFUSE_ROWS = [
    # id, type, start_time, name, model, usage_details, total_cost, is_deleted
    (
        "o1",
        "GENERATION",
        "2025-03-03 09:00:00",
        "chat",
        "gpt-4o",
        {"input": 1000, "output": 200, "input_cached_tokens": 100},
        0.004,
        0,
    ),
    (
        "o2",
        "GENERATION",
        "2025-03-03 09:10:00",
        "chat",
        "claude-sonnet-4",
        {"input": 500, "output": 50, "cache_read_input_tokens": 50},
        0.001,
        0,
    ),
    ("o3", "SPAN", "2025-03-03 09:11:00", "retrieval", None, {}, None, 0),  # not a model call
    ("o4", "GENERATION", "2025-03-03 09:20:00", "chat", "gpt-4o", {"input": 10}, None, 0),
    (
        "o5",
        "GENERATION",
        "2025-03-03 09:30:00",
        "chat",
        "gpt-4o",
        {"input": 7, "output": 7},
        0.5,
        1,
    ),  # deleted
]


def test_langfuse_preset(tmp_path: Path) -> None:
    url = duckdb_with(
        tmp_path,
        LANGFUSE_DDL,
        "INSERT INTO observations (id, type, start_time, name, provided_model_name, "
        "usage_details, total_cost, is_deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        LANGFUSE_ROWS,
    )
    s = ingest([], backend=url, preset="langfuse", price=None)
    assert s.rows_skipped == {"not_a_generation": 1, "deleted": 1}
    assert s.rows_rejected == {"missing_tokens": 1}  # o4 has no output count
    g = s.groups["all"]
    assert (g.requests, g.input_tokens, g.output_tokens) == (2, 1500, 250)
    assert g.cached_input_tokens == 100 + 50
    assert g.billed_usd == pytest.approx(0.005)
    assert [m.model for m in g.models] == ["claude-sonnet-4", "gpt-4o"]


# The OpenTelemetry Collector ClickHouse exporter's `otel_traces` (sqltemplates/traces_table.sql).
OTEL_DDL = """CREATE TABLE otel_traces (
    "Timestamp" TIMESTAMP, "TraceId" VARCHAR, "SpanId" VARCHAR, "ParentSpanId" VARCHAR,
    "TraceState" VARCHAR, "SpanName" VARCHAR, "SpanKind" VARCHAR, "ServiceName" VARCHAR,
    "ResourceAttributes" MAP(VARCHAR, VARCHAR), "ScopeName" VARCHAR, "ScopeVersion" VARCHAR,
    "SpanAttributes" MAP(VARCHAR, VARCHAR), "Duration" UBIGINT, "StatusCode" VARCHAR,
    "StatusMessage" VARCHAR)"""
OTEL_ROWS = [
    (
        "2025-03-03 09:00:00",
        "s1",
        "svc-a",
        {
            "gen_ai.usage.input_tokens": "120",
            "gen_ai.usage.output_tokens": "30",
            "gen_ai.usage.cache_read.input_tokens": "20",
            "gen_ai.response.model": "gpt-4o-mini",
        },
    ),
    (
        "2025-03-03 09:01:00",
        "s2",
        "svc-a",
        {  # the older attribute names
            "gen_ai.usage.prompt_tokens": "80",
            "gen_ai.usage.completion_tokens": "20",
            "gen_ai.request.model": "gpt-4o-mini",
        },
    ),
    ("2025-03-03 09:02:00", "s3", "svc-b", {"http.request.method": "GET"}),  # skipped
    (
        "2025-03-03 09:03:00",
        "s4",
        "svc-b",
        {
            "gen_ai.usage.input_tokens": "lots",
            "gen_ai.usage.output_tokens": "5",
            "gen_ai.request.model": "x",
        },
    ),  # non_numeric_tokens
    (
        "2025-03-03 09:04:00",
        "s5",
        "svc-b",
        {
            "gen_ai.usage.output_tokens": "5",
            "gen_ai.request.model": "x",
        },
    ),  # missing_tokens
]


def test_otel_clickhouse_preset(tmp_path: Path) -> None:
    url = duckdb_with(
        tmp_path,
        OTEL_DDL,
        'INSERT INTO otel_traces ("Timestamp", "SpanId", "ServiceName", "SpanAttributes") '
        "VALUES (?, ?, ?, ?)",
        OTEL_ROWS,
    )
    s = ingest([], backend=url, preset="otel-clickhouse", by="workload-tag", price=None)
    assert s.rows_skipped == {"not_a_genai_span": 1}
    assert s.rows_rejected == {"non_numeric_tokens": 1, "missing_tokens": 1}
    g = s.groups["svc-a"]
    assert (g.requests, g.input_tokens, g.output_tokens, g.cached_input_tokens) == (
        2,
        200,
        50,
        20,
    )
    assert set(s.groups) == {"svc-a"}


def test_missing_column_names_the_preset_expectation(tmp_path: Path) -> None:
    url = duckdb_with(
        tmp_path,
        'CREATE TABLE otel_traces ("Timestamp" TIMESTAMP, "SpanId" VARCHAR)',
        "INSERT INTO otel_traces VALUES (?, ?)",
        [("2025-03-03 09:00:00", "s1")],
    )
    with pytest.raises(LogFormatError) as info:
        ingest([], backend=url, preset="otel-clickhouse", price=None)
    message = str(info.value)
    assert "no column 'ServiceName', 'SpanAttributes'" in message
    assert "traces_table.sql" in message


def test_unknown_preset() -> None:
    with pytest.raises(LogFormatError, match="unknown preset 'helicone'"):
        ingest([], backend="duckdb://", preset="helicone", price=None)


def test_every_preset_cites_its_schema() -> None:
    for preset in PRESETS.values():
        assert preset.source.startswith("https://github.com/")
        assert preset.table and preset.required


def test_result_is_small(tmp_path: Path) -> None:
    url = duckdb_with(
        tmp_path,
        LITELLM_DDL,
        'INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, "startTime", "endTime", '
        "prompt_tokens, completion_tokens) VALUES (?, 'acompletion', ?, ?, ?, ?)",
        [
            (f"r{i}", f"2025-03-0{1 + i % 7} 10:00:00", "2025-03-08 00:00:00", i, i)
            for i in range(500)
        ],
    )
    s = ingest([], backend=url, preset="litellm", price=None)
    assert s.rows_used == 500
    assert s.backend is not None
    # 7 days x 1 model: 7 cube rows; 7 busy minutes holding 71 or 72 requests (2 counts); one
    # length cell per (input, output) bucket pair seen (at most 93).
    assert s.backend.rows_returned < 200
    # Repeated ids (none), model names, the cube, per-minute arrivals, lengths.
    assert json.loads(s.model_dump_json())["backend"]["queries"] == 5
