"""Every log format read end to end and checked against sums worked out by hand from the
fixture files in tests/data/ingest/ (see the README there)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest

from llm_tco.errors import LogFormatError
from llm_tco.ingest import ingest
from llm_tco.ingest.model import IngestSummary

DATA = Path(__file__).parent.parent / "data" / "ingest"


def read(name: str | Path, **kwargs: object) -> IngestSummary:
    return ingest([DATA / name if isinstance(name, str) else name], price=None, **kwargs)  # type: ignore[arg-type]


def assert_accounted(summary: IngestSummary, rows_in_file: int) -> None:
    """Every row of the file is used, rejected for a reason, or skipped for a reason."""
    assert summary.rows_read == rows_in_file
    rejected = sum(summary.rows_rejected.values())
    skipped = sum(summary.rows_skipped.values())
    assert summary.rows_used + rejected + skipped == rows_in_file


def test_openai_usage_page_json() -> None:
    s = read("openai_usage.json")
    assert s.formats == ["openai"]
    g = s.groups["all"]
    # Three results: input 1000 + 500 + 2000, output 300 + 100 + 600, cached 200 + 0 + 400,
    # requests 10 + 2 + 20.
    assert (g.input_tokens, g.output_tokens, g.cached_input_tokens) == (3500, 1000, 600)
    assert g.requests == 32
    assert_accounted(s, 3)
    # Daily buckets for 2025-01-01 and 01-02: two days, so a month is 30/2 times the total.
    assert s.days == 2
    assert g.input_tokens_per_month == pytest.approx(3500 * 30 / 2)
    assert g.requests_per_month == pytest.approx(32 * 15)
    # Only the gpt-4o result (500 in + 100 out) went through the batch API: 600 / 4500.
    assert g.batch_share == pytest.approx(600 / 4500)
    assert g.peak_to_mean is None  # daily buckets say nothing about the peak hour


def test_openai_usage_csv_with_bad_rows() -> None:
    s = read("openai_usage.csv")
    assert s.formats == ["openai"]
    assert s.rows_rejected == {"negative_tokens": 1, "missing_tokens": 1}
    assert_accounted(s, 5)
    assert s.groups["all"].input_tokens == 3500  # same three good rows as the JSON page


def test_anthropic_usage_report() -> None:
    s = read("anthropic_usage.json")
    assert s.formats == ["anthropic"]
    g = s.groups["all"]
    # Input = uncached + cache read + cache writes: (1000 + 3000 + 500 + 0) + (2000 + 0 + 0 + 0).
    assert g.input_tokens == 6500
    assert g.cached_input_tokens == 3000
    assert g.output_tokens == 1200  # 400 + 800; the third result has no output_tokens
    assert g.requests is None  # the usage report does not count requests
    assert s.rows_rejected == {"missing_tokens": 1}
    assert_accounted(s, 3)
    # service_tier "batch": 2000 + 800 of 7700 tokens.
    assert g.batch_share == pytest.approx(2800 / 7700)
    # Hourly buckets: hour 10 = 4500 + 400 = 4900, hour 11 = 2800. Mean 3850;
    # p95 of [2800, 4900] = 2800 + 0.95 * 2100 = 4795; 4795 / 3850.
    assert g.peak_to_mean == pytest.approx(4795 / 3850)


def test_litellm_spend_logs() -> None:
    s = read("litellm_spend_logs.csv")
    assert s.formats == ["litellm"]
    # 7 data lines: 001 ok, 002 ok, 002 again (duplicate), 003 no prompt_tokens,
    # 004 "yesterday", 005 ok, 006 has two extra fields.
    assert s.rows_rejected == {
        "duplicate_request_id": 1,
        "missing_tokens": 1,
        "bad_timestamp": 1,
        "malformed_line": 1,
    }
    assert_accounted(s, 7)
    g = s.groups["all"]
    assert (g.input_tokens, g.output_tokens) == (100 + 200 + 300, 50 + 80 + 100)
    assert g.cached_input_tokens == 40  # metadata.usage_object.prompt_tokens_details of 001
    assert g.requests == 3
    assert g.billed_usd == pytest.approx(0.00015 + 0.0003 + 0.0008)


def test_litellm_by_request_tag() -> None:
    s = read("litellm_spend_logs.csv", by="workload-tag")
    assert s.groups["support-bot"].input_tokens == 100 + 300
    assert s.groups["rag"].input_tokens == 200


def test_langfuse_observations() -> None:
    s = read("langfuse_observations.json")
    assert s.formats == ["langfuse"]
    g = s.groups["all"]
    assert (g.input_tokens, g.output_tokens, g.cached_input_tokens) == (1500, 250, 100)
    assert g.billed_usd == pytest.approx(0.0045 + 0.00075)
    assert s.rows_skipped == {"not_a_generation": 1}  # the SPAN observation
    assert s.rows_rejected == {"negative_tokens": 1}
    assert_accounted(s, 4)


def test_helicone_export_with_broken_json_line() -> None:
    s = read("helicone_export.jsonl")
    assert s.formats == ["helicone"]
    assert s.rows_rejected == {"malformed_line": 1, "bad_timestamp": 1, "missing_tokens": 1}
    assert_accounted(s, 5)
    g = s.groups["all"]
    assert (g.input_tokens, g.output_tokens, g.requests) == (120 + 80, 30 + 20, 2)
    assert g.billed_usd == pytest.approx(0.000036 + 0.000024)
    assert [m.model for m in g.models] == ["gpt-4o-mini-2024-07-18"]  # response_model first


def test_otel_otlp_json() -> None:
    s = read("otel_spans.otlp.json", by="workload-tag")
    assert s.formats == ["otel"]
    assert s.rows_skipped == {"not_a_genai_span": 1}  # GET /health
    assert s.rows_rejected == {"missing_tokens": 1}  # no gen_ai.usage.input_tokens
    assert_accounted(s, 4)
    assert s.groups["support-bot"].input_tokens == 700
    assert s.groups["support-bot"].cached_input_tokens == 300
    assert s.groups["summariser"].output_tokens == 30


def test_otel_console_spans_with_legacy_attributes() -> None:
    s = read("otel_console_spans.jsonl")
    assert s.formats == ["otel"]
    g = s.groups["all"]
    # 150 + 50 (gen_ai.usage.prompt_tokens, the older name), 25 + 5.
    assert (g.input_tokens, g.output_tokens) == (200, 30)


def make_llm_logs_db(path: Path) -> Path:
    """A logs.db with the columns llm's migrations give ``responses`` (m010 + m013 + m019)."""
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE responses (id TEXT PRIMARY KEY, model TEXT, prompt TEXT, system TEXT, "
        "prompt_json TEXT, options_json TEXT, response TEXT, response_json TEXT, "
        "conversation_id TEXT, duration_ms INTEGER, datetime_utc TEXT, input_tokens INTEGER, "
        "output_tokens INTEGER, token_details TEXT, schema_id TEXT, resolved_model TEXT)"
    )
    rows = [
        (
            "01jv1",
            "gpt-4o-mini",
            "2025-07-01T08:00:00.123456+00:00",
            50,
            20,
            '{"prompt_tokens_details": {"cached_tokens": 10}}',
        ),
        ("01jv2", "gpt-4o-mini", "2025-07-01T09:00:00.000001+00:00", 30, 10, None),
        ("01jv3", "some-local-model", "2025-07-01T10:00:00+00:00", None, None, None),
    ]
    db.executemany(
        "INSERT INTO responses (id, model, datetime_utc, input_tokens, output_tokens, "
        "token_details) VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.commit()
    db.close()
    return path


def test_llm_cli_logs_db(tmp_path: Path) -> None:
    s = read(make_llm_logs_db(tmp_path / "logs.db"))
    assert s.formats == ["llm"]
    g = s.groups["all"]
    assert (g.input_tokens, g.output_tokens, g.cached_input_tokens, g.requests) == (80, 30, 10, 2)
    assert s.rows_rejected == {"missing_tokens": 1}
    assert_accounted(s, 3)


def check_generic(s: IngestSummary) -> None:
    assert s.formats == ["generic"]
    assert s.rows_rejected == {"negative_tokens": 1, "non_numeric_tokens": 1}
    assert_accounted(s, 6)
    g = s.groups["all"]
    assert (g.input_tokens, g.output_tokens, g.requests) == (800, 80, 4)
    # Hours 00..03 of one day: 220, 220, 0, 440 tokens. Mean 220; p95 position 0.95 * 3 = 2.85
    # in [0, 220, 220, 440] -> 220 + 0.85 * 220 = 407; 407 / 220 = 1.85.
    assert g.peak_to_mean == pytest.approx(1.85)
    assert g.input_tokens_per_month == pytest.approx(800 * 30)  # one day scaled to 30


def test_generic_csv() -> None:
    check_generic(read("generic.csv"))


def test_generic_jsonl() -> None:
    check_generic(read("generic.jsonl"))


def test_generic_parquet(tmp_path: Path) -> None:
    path = tmp_path / "generic.parquet"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    # Typed columns as Parquet exports have them; the non-numeric row becomes a NULL input.
    con.execute(f"CREATE TABLE raw AS FROM read_csv('{DATA / 'generic.csv'}', all_varchar = true)")
    con.execute(
        "COPY (SELECT CAST(timestamp AS TIMESTAMPTZ) AS timestamp, model, "
        "TRY_CAST(prompt_tokens AS BIGINT) AS input_tokens, "
        "CAST(completion_tokens AS BIGINT) AS output_tokens, workload "
        f"FROM raw) TO '{path}' (FORMAT parquet)"
    )
    s = read(path)
    assert s.rows_rejected == {"negative_tokens": 1, "missing_tokens": 1}
    assert s.groups["all"].peak_to_mean == pytest.approx(1.85)


def test_generic_by_workload() -> None:
    s = read("generic.csv", by="workload-tag")
    assert s.groups["wl-a"].input_tokens == 100 + 200 + 400
    assert s.groups["wl-b"].input_tokens == 100


def test_mapping_flag() -> None:
    with pytest.raises(LogFormatError, match="no column for ts"):
        read("generic_mapped.csv")
    mapping = {
        "ts": "when",
        "model": "llm",
        "input_tokens": "tok_in",
        "output_tokens": "tok_out",
        "tag": "feature",
    }
    s = read("generic_mapped.csv", mapping=mapping, by="workload-tag")
    assert s.groups["wl-a"].input_tokens == 700
    assert s.groups["wl-b"].output_tokens == 10


def test_whole_months_median_and_growth() -> None:
    s = read("months.csv")
    g = s.groups["all"]
    # Rows on 01-01, 02-10 and 03-01: the span covers January and February whole, March not.
    assert s.days == 31 + 28 + 1
    assert [m.whole for m in g.months.values()] == [True, True, False]
    assert g.input_tokens_per_month == pytest.approx((1000 + 3000) / 2)  # median of 2 months
    assert g.output_tokens_per_month == pytest.approx((100 + 300) / 2)
    # Tokens per day: 1100 / 31 in January, 3300 / 28 in February, midpoints 29.5 days apart;
    # compounded over 30 days: (3300 / 28 / (1100 / 31)) ** (30 / 29.5) - 1 = 2.3897.
    assert g.monthly_growth == pytest.approx((3300 / 28 / (1100 / 31)) ** (30 / 29.5) - 1)
    assert g.monthly_growth == pytest.approx(2.3897, abs=1e-4)
    assert g.cached_input_share == pytest.approx(1000 / 4500)
    assert g.batch_share == pytest.approx(3300 / 4950)


def test_forced_format_that_does_not_fit() -> None:
    with pytest.raises(LogFormatError):
        read("generic.csv", format="litellm")


def test_invalid_json_document(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[{"timestamp": "2025-01-01T00:00:00Z", ', encoding="utf-8")
    with pytest.raises(LogFormatError, match="not valid JSON"):
        read(path)
