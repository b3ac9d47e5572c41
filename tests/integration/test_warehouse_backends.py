"""The warehouse path on real engines: DuckDB, SQLite, a PostgreSQL server and Spark local mode.

The same request-log rows are loaded into each engine (Spark reads them as Parquet) and must
give the same summary JSON. Every expected figure below was counted by hand from ``ROWS``.
PostgreSQL also holds LiteLLM's own spend-log table (``tests/data/ingest/litellm_spendlogs.sql``)
for the ``--preset litellm`` checks.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import servers
from llm_tco.cli import app
from llm_tco.ingest import ingest
from llm_tco.ingest.model import BackendStats
from warehouse_rows import LITELLM_ROWS

pytest.importorskip("ibis", reason='Ibis is not installed: pip install -e ".[warehouse]"')

DATA = Path(__file__).parent.parent / "data" / "ingest"


def at(hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2025, 3, 3, hour, minute, second)


# request_id, ts, model, input_tokens, output_tokens, cached_input_tokens, workload
ROWS: list[tuple[Any, ...]] = [
    ("r01", at(9, 0, 10), "model-a", 1000.0, 100.0, 200.0, "chat"),
    ("r02", at(9, 0, 40), "model-a", 2000.0, 200.0, 0.0, "chat"),  # same minute as r01
    ("r03", at(9, 30), "model-b", 500.0, 50.0, 0.0, "rag"),
    ("r03", at(9, 30), "model-b", 500.0, 50.0, 0.0, "rag"),  # duplicate_request_id
    ("r04", at(10, 15), "model-a", 3000.0, 300.0, 0.0, "chat"),
    ("r05", at(10, 15, 30), "model-b", -5.0, 10.0, 0.0, "rag"),  # negative_tokens
    ("r06", at(10, 16), "model-a", math.inf, 10.0, 0.0, "chat"),  # non_finite_tokens
    ("r07", at(10, 17), "model-a", 2e8, 10.0, 0.0, "chat"),  # too_many_tokens
    ("r08", dt.datetime(1970, 1, 1), "model-a", 100.0, 10.0, 0.0, "chat"),  # bad_timestamp
    ("r09", None, "model-a", 100.0, 10.0, 0.0, "chat"),  # missing_timestamp
    ("r10", at(11, 0), "model-a", None, 10.0, 0.0, "chat"),  # missing_tokens
    ("r11", at(11, 5), "model-a", 100.0, 10.0, 200.0, "chat"),  # cached_exceeds_input
    ("r12", at(11, 59, 59), "model-b", 800.0, 80.0, 0.0, "rag"),
]
REJECTED = {
    "too_many_tokens": 1,
    "bad_timestamp": 1,
    "cached_exceeds_input": 1,
    "duplicate_request_id": 1,
    "missing_timestamp": 1,
    "missing_tokens": 1,
    "negative_tokens": 1,
    "non_finite_tokens": 1,
}
COLUMNS = "request_id, timestamp, model, input_tokens, output_tokens, cached_input_tokens, workload"

# Four requests over eight days (2025-03-03 was a Monday), by hour of the week:
#   w1 Mon 03-03 00:10   840 tokens -> hour 0
#   w2 Mon 03-03 09:30  1680 tokens -> hour 9
#   w3 Sat 03-08 12:00   420 tokens -> hour 5 x 24 + 12 = 132
#   w4 Mon 03-10 09:15  3360 tokens -> hour 9
# The span 03-03 00:00 .. 03-10 09:59 is 178 hours, so Monday 00:00-09:59 occurs twice. Per
# occurrence: hour 0 840 / 2 = 420, hour 9 (1680 + 3360) / 2 = 2520, hour 132 420, the rest
# 0; over the mean hour, 3360 / 168 = 20: 21, 126 and 21.
WEEK_ROWS: list[tuple[Any, ...]] = [
    ("w1", dt.datetime(2025, 3, 3, 0, 10), "model-a", 800.0, 40.0, 0.0, "chat"),
    ("w2", dt.datetime(2025, 3, 3, 9, 30), "model-a", 1600.0, 80.0, 0.0, "chat"),
    ("w3", dt.datetime(2025, 3, 8, 12, 0), "model-a", 400.0, 20.0, 0.0, "chat"),
    ("w4", dt.datetime(2025, 3, 10, 9, 15), "model-a", 3200.0, 160.0, 0.0, "chat"),
]
WEEK_PROFILE = [{0: 21.0, 9: 126.0, 132: 21.0}.get(h, 0.0) for h in range(168)]


def sql_schema(text: str, ts: str, real: str) -> str:
    return (
        f"request_id {text}, timestamp {ts}, model {text}, input_tokens {real}, "
        f"output_tokens {real}, cached_input_tokens {real}, workload {text}"
    )


# ---- the engines -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres() -> Iterator[servers.Postgres]:
    with servers.postgres_server() as server:
        ddl = (DATA / "litellm_spendlogs.sql").read_text(encoding="utf-8")
        server.execute(
            f"CREATE TABLE logs ({sql_schema('TEXT', 'TIMESTAMP', 'DOUBLE PRECISION')})",
            ddl,
        )
        server.execute(
            f"INSERT INTO logs ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)", rows=ROWS
        )
        server.execute(f"CREATE TABLE week ({sql_schema('TEXT', 'TIMESTAMP', 'DOUBLE PRECISION')})")
        server.execute(
            f"INSERT INTO week ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)", rows=WEEK_ROWS
        )
        server.execute(
            'INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, '
            'prompt_tokens, completion_tokens, total_tokens, "startTime", "endTime", model, '
            "metadata, request_tags) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows=LITELLM_ROWS,
        )
        yield server


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = servers.spark_session()
    yield session
    session.stop()


def duckdb_url(tmp_path: Path, rows: list[tuple[Any, ...]] = ROWS) -> str:
    import duckdb

    path = tmp_path / f"logs{len(rows)}.duckdb"
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE logs ({sql_schema('VARCHAR', 'TIMESTAMP', 'DOUBLE')})")
    con.executemany(f"INSERT INTO logs ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    con.close()
    return f"duckdb://{path}"


def sqlite_url(tmp_path: Path, rows: list[tuple[Any, ...]] = ROWS) -> str:
    path = tmp_path / f"logs{len(rows)}.sqlite"
    db = sqlite3.connect(path)
    db.execute(f"CREATE TABLE logs ({sql_schema('TEXT', 'TIMESTAMP', 'REAL')})")
    text_rows = [(r[0], None if r[1] is None else r[1].isoformat(" "), *r[2:]) for r in rows]
    db.executemany(f"INSERT INTO logs ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", text_rows)
    db.commit()
    db.close()
    return f"sqlite://{path}"


def parquet_file(tmp_path: Path, rows: list[tuple[Any, ...]] = ROWS) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = [c.strip() for c in COLUMNS.split(",")]
    table = pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})
    path = tmp_path / f"logs{len(rows)}.parquet"
    pq.write_table(table, path)
    return path


def comparable(summary: Any) -> dict[str, Any]:
    """The summary JSON without the query costs, which differ by engine by design."""
    data: dict[str, Any] = json.loads(summary.model_dump_json())
    data.pop("backend")
    return data


# ---- one fixture, four engines -------------------------------------------------------------


def check_hand_counts(s: Any) -> None:
    assert s.rows_read == 13
    assert s.rows_rejected == REJECTED
    g = s.groups["all"]
    # r01 + r02 + r03 (once) + r04 + r12
    assert g.requests == 5
    assert (g.input_tokens, g.output_tokens) == (1000 + 2000 + 500 + 3000 + 800, 730)
    assert g.cached_input_tokens == 200
    assert {m.model: m.input_tokens for m in g.models} == {"model-a": 6000, "model-b": 1300}
    shape = g.shape
    assert shape is not None
    assert shape.requests == 5
    # 09:00 has r01 and r02; 09:30, 10:15 and 11:59 one each; the span is 09:00..11:59.
    assert shape.busiest_minute_requests == 2
    assert shape.mean_requests_per_minute == pytest.approx(5 / 180)
    assert sum(shape.input_histogram) == sum(shape.output_histogram) == 5
    assert s.backend is not None and s.backend.bytes_returned > 0


def check_hand_counts_of_rows(s: Any) -> None:
    """``check_hand_counts`` less the warehouse's query costs."""
    s = s.model_copy(
        update={
            "backend": BackendStats(
                backend="-", queries=1, rows_returned=1, bytes_returned=1, seconds=0.0
            )
        }
    )
    check_hand_counts(s)


def test_duckdb_and_sqlite_agree_with_hand_counts(tmp_path: Path) -> None:
    a = ingest([], backend=duckdb_url(tmp_path), table="logs", price=None)
    b = ingest([], backend=sqlite_url(tmp_path), table="logs", price=None)
    check_hand_counts(a)
    assert comparable(a) == comparable(b)


def csv_file(tmp_path: Path, rows: list[tuple[Any, ...]] = ROWS) -> Path:
    """ROWS as a CSV log (``inf`` and empty cells as a log writer leaves them)."""
    path = tmp_path / f"logs{len(rows)}.csv"

    def cell(v: Any) -> str:
        if v is None:
            return ""
        return v.isoformat() + "Z" if isinstance(v, dt.datetime) else str(v)

    lines = [COLUMNS.replace(" ", "")] + [",".join(cell(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_file_engine_gives_the_same_json(tmp_path: Path) -> None:
    """One list of reject reasons and the same per-request shapes: the file engine reading the
    rows as CSV agrees with the warehouse path field for field (format name and the text of
    the sample rows aside)."""
    files = ingest([csv_file(tmp_path)], price=None)
    check_hand_counts_of_rows(files)
    warehouse = comparable(ingest([], backend=duckdb_url(tmp_path), table="logs", price=None))
    embedded = comparable(files)
    assert embedded.pop("formats") == ["generic"] and warehouse.pop("formats") == ["warehouse"]
    # Samples differ by design: a file's sample is the row's fields, a warehouse's its id.
    assert set(embedded.pop("rejected_samples")) == set(warehouse.pop("rejected_samples"))
    assert embedded == warehouse


def test_postgres_and_spark_give_the_same_json(
    tmp_path: Path, postgres: servers.Postgres, spark: Any
) -> None:
    reference = comparable(ingest([], backend=duckdb_url(tmp_path), table="logs", price=None))
    pg = ingest([], backend=postgres.url(), table="logs", price=None)
    check_hand_counts(pg)
    assert pg.backend is not None and pg.backend.backend == "postgres"
    assert comparable(pg) == reference
    sp = ingest([], backend="pyspark://", table=str(parquet_file(tmp_path)), price=None)
    check_hand_counts(sp)
    assert sp.backend is not None and sp.backend.backend == "pyspark"
    assert comparable(sp) == reference


def test_every_engine_gives_the_hand_worked_weekly_profile(
    tmp_path: Path, postgres: servers.Postgres, spark: Any
) -> None:
    summaries = {
        "duckdb": ingest([], backend=duckdb_url(tmp_path, WEEK_ROWS), table="logs", price=None),
        "sqlite": ingest([], backend=sqlite_url(tmp_path, WEEK_ROWS), table="logs", price=None),
        "postgres": ingest([], backend=postgres.url(), table="week", price=None),
        "pyspark": ingest(
            [], backend="pyspark://", table=str(parquet_file(tmp_path, WEEK_ROWS)), price=None
        ),
        "files": ingest([csv_file(tmp_path, WEEK_ROWS)], price=None),
    }
    for engine, summary in summaries.items():
        profile = summary.groups["all"].weekly_profile
        assert profile == pytest.approx(WEEK_PROFILE), engine
    # The ten-hour logs above span under a week: no profile, on any engine.
    assert (
        ingest([], backend=postgres.url(), table="logs", price=None).groups["all"].weekly_profile
        is None
    )


@pytest.mark.parametrize("by", ["model", "workload-tag"])
def test_groupings_agree_on_postgres_and_spark(
    tmp_path: Path, postgres: servers.Postgres, spark: Any, by: str
) -> None:
    reference = comparable(
        ingest([], backend=duckdb_url(tmp_path), table="logs", by=by, price=None)
    )
    pg = ingest([], backend=postgres.url(), table="logs", by=by, price=None)
    sp = ingest([], backend="pyspark://", table=str(parquet_file(tmp_path)), by=by, price=None)
    assert comparable(pg) == comparable(sp) == reference
    groups = reference["groups"]
    if by == "model":
        assert groups["model-b"]["requests"] == 2  # r03 once, r12
    else:
        assert groups["chat"]["input_tokens"] == 6000


# ---- LiteLLM's own table on PostgreSQL ---------------------------------------------------


def run_cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_litellm_preset_on_postgres_gives_hand_counts(postgres: servers.Postgres) -> None:
    result = run_cli("ingest", "--backend", postgres.url(), "--preset", "litellm", "-f", "json")
    assert result.exit_code == 0, result.output
    s = json.loads(result.stdout)
    assert s["rows_read"] == 7
    assert s["rows_rejected"] == {
        "negative_tokens": 1,
        "bad_timestamp": 1,
        "too_many_tokens": 1,
        "cached_exceeds_input": 1,
    }
    g = s["groups"]["all"]
    assert g["requests"] == 3  # 001, 002, 005
    assert (g["input_tokens"], g["output_tokens"]) == (100 + 200 + 300, 50 + 80 + 100)
    assert g["cached_input_tokens"] == 40  # metadata of 001
    assert g["billed_usd"] == pytest.approx(0.00015 + 0.0003 + 0.0008)
    assert s["backend"]["backend"] == "postgres"
    by_tag = run_cli(
        "ingest",
        "--backend",
        postgres.url(),
        "--preset",
        "litellm",
        "--by",
        "workload-tag",
        "-f",
        "json",
    )
    groups = json.loads(by_tag.stdout)["groups"]
    assert groups["support-bot"]["input_tokens"] == 100 + 300
    assert groups["rag"]["input_tokens"] == 200


def test_password_from_environment(
    postgres: servers.Postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGPASSWORD", servers.PG_PASSWORD)
    monkeypatch.setenv("LLM_TCO_BACKEND", postgres.url(password=False))
    result = run_cli("ingest", "--preset", "litellm", "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows_read"] == 7


# ---- errors that teach, and never show the password ----------------------------------------


def assert_secret_hidden(result: Any) -> None:
    everything = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert servers.PG_PASSWORD not in everything
    assert servers.PG_PASSWORD not in repr(result.exception)


def test_unreachable_backend(postgres: servers.Postgres) -> None:
    url = postgres.url().replace(f":{postgres.port}/", f":{servers._free_port()}/")
    result = run_cli("ingest", "--backend", url, "--preset", "litellm")
    assert result.exit_code == 2
    assert "cannot reach the backend postgresql://llmtco:***@127.0.0.1" in result.output
    assert_secret_hidden(result)


def test_wrong_password(postgres: servers.Postgres) -> None:
    url = postgres.url().replace(servers.PG_PASSWORD, servers.PG_PASSWORD[::-1])
    result = run_cli("ingest", "--backend", url, "--preset", "litellm")
    assert result.exit_code == 2
    assert "password authentication failed" in result.output
    assert servers.PG_PASSWORD[::-1] not in result.output
    assert_secret_hidden(result)


def test_missing_table_names_the_preset_expectation(postgres: servers.Postgres) -> None:
    result = run_cli("ingest", "--backend", postgres.url(), "--preset", "langfuse")
    assert result.exit_code == 2
    assert "no table 'observations'" in result.output
    assert "provided_model_name" in result.output
    assert_secret_hidden(result)


def test_missing_column_is_named(postgres: servers.Postgres) -> None:
    result = run_cli(
        "ingest", "--backend", postgres.url(), "--preset", "litellm", "--table", "logs"
    )
    assert result.exit_code == 2
    assert "table 'logs' has no column 'startTime', 'prompt_tokens', 'completion_tokens'" in (
        result.output.replace("\n", " ")
    )
    assert "schema.prisma" in result.output
    assert_secret_hidden(result)


def test_success_output_hides_the_password(postgres: servers.Postgres) -> None:
    for fmt in ("table", "json"):
        result = run_cli("ingest", "--backend", postgres.url(), "--preset", "litellm", "-f", fmt)
        assert result.exit_code == 0
        assert_secret_hidden(result)
