"""Request logs with hostile rows: every physical record is accepted or rejected with a reason,
the accepted sums equal a hand count, and no row stretches the window."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from fuzz_support import FUZZ, HOSTILE
from hypothesis import given
from hypothesis import strategies as st

from llm_tco.errors import LogFormatError
from llm_tco.ingest import ingest

# tests/data/hostile/README.md: the four good rows hold 1,000 input and 100 output tokens.
GOOD_INPUT, GOOD_OUTPUT, GOOD_ROWS = 1000, 100, 4
RECORDS = {"mixed_rows.jsonl": 16, "mixed_rows.csv": 11}


def check(path: Path, records: int, extra_rejected: int = 0) -> None:
    summary = ingest([path], price=None)
    rejected = sum(summary.rows_rejected.values())
    assert summary.rows_used == GOOD_ROWS
    assert summary.rows_used + rejected == records + extra_rejected == summary.rows_read
    whole = summary.groups["all"]
    assert (whole.input_tokens, whole.output_tokens) == (GOOD_INPUT, GOOD_OUTPUT)
    # The window is the good rows' (2025-08-04 .. 08-06): neither 2099 nor 2001 stretches it.
    assert (summary.first_day, summary.last_day, summary.days) == ("2025-08-04", "2025-08-06", 3)
    assert summary.rows_rejected["future_timestamp"] == 1
    assert summary.rows_rejected["outlier_timestamp"] == 1
    assert summary.rows_rejected["too_many_tokens"] == 1
    json.loads(summary.model_dump_json())  # valid JSON: no NaN anywhere


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_mixed_rows(name: str) -> None:
    check(HOSTILE / name, RECORDS[name])


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_an_over_long_line_is_one_rejected_row(name: str, tmp_path: Path) -> None:
    copy = tmp_path / name
    text = (HOSTILE / name).read_text()
    if name.endswith(".csv"):
        long_line = "2025-08-04T05:00:00Z,m," + "9" * (3 * 1024 * 1024) + ",1"  # past 2 MB
    else:
        long_line = json.dumps({"timestamp": "2025-08-04T05:00:00Z", "pad": "x" * 9_000_000})
    copy.write_text(text + long_line + "\n")
    check(copy, RECORDS[name], extra_rejected=1)


def test_gzipped_json_lines_and_csv(tmp_path: Path) -> None:
    for name, records in RECORDS.items():
        packed = tmp_path / f"{name}.gz"
        packed.write_bytes(gzip.compress((HOSTILE / name).read_bytes()))
        check(packed, records)


def test_a_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "logs.csv"
    os.mkfifo(fifo)
    with pytest.raises(LogFormatError, match="not a regular file"):
        ingest([fifo], price=None)


@pytest.mark.parametrize("name", ["a#b.db", "q?x.db", "p%41.db"])
def test_sqlite_names_are_not_uris(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE responses (id TEXT, model TEXT, datetime_utc TEXT, "
        "input_tokens INTEGER, output_tokens INTEGER, token_details TEXT)"
    )
    db.execute("INSERT INTO responses VALUES ('r1', 'gpt-4o', '2025-08-04T00:00:00', 12, 3, NULL)")
    db.commit()
    db.close()
    before = sorted(p.name for p in tmp_path.iterdir())
    summary = ingest([path], price=None)
    assert summary.groups["all"].input_tokens == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no stray file made


def test_duckdb_spills_into_a_folder_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ingest([HOSTILE / "mixed_rows.csv"], price=None)
    assert list(tmp_path.iterdir()) == []  # made for the run, removed after it


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.integers(0, 10**6), st.sampled_from(["nan", "inf", "-1", "1e400", "x", ""])
            ),
            st.one_of(
                st.sampled_from(
                    ["2025-08-04T01:00:00Z", "2025-08-05T01:00:00Z", "2099-01-01T00:00:00Z"]
                ),
                st.sampled_from(["", "yesterday", "0", "1e30"]),
            ),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_accepted_plus_rejected_is_every_record(rows: list[tuple[object, str]]) -> None:
    folder = Path(tempfile.mkdtemp())
    try:
        path = folder / "log.csv"
        lines = ["timestamp,model,input_tokens,output_tokens"]
        lines += [f"{ts},m,{tokens},1" for tokens, ts in rows]
        path.write_text("\n".join(lines) + "\n")
        try:
            summary = ingest([path], price=None)
        except LogFormatError:
            return  # e.g. no column DuckDB can read at all: one clear error
        assert summary.rows_used + sum(summary.rows_rejected.values()) == len(rows)
        good = [int(t) for t, ts in rows if isinstance(t, int) and ts.startswith("2025")]
        total = summary.groups["all"].input_tokens if summary.groups else 0
        assert total == sum(good)
    finally:
        shutil.rmtree(folder)


def test_explicit_shape_wins_over_the_logs_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import support

    # tests/data/ingest/generic.csv gives peak-to-mean 1.85 (see test_workload_from_logs).
    monkeypatch.setenv("LLM_TCO_CACHE_DIR", str(tmp_path / "cache"))
    logs = Path(__file__).resolve().parents[1] / "data" / "ingest" / "generic.csv"
    option = {"name": "api", "api": {"input_per_mtok": 3, "output_per_mtok": 15}}
    result = support.run(
        {"workload": {"from_logs": str(logs), "peak_to_mean": 3}, "options": [option]}
    )
    assert result.workload.peak_to_mean == 3
    assert "peak_to_mean 3 as given (the log says 1.85)" in result.model_dump_json()
