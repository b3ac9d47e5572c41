"""Reading a request log's shape for replay."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_tco.bench.replay import read_replay
from llm_tco.errors import BenchError


def test_csv_with_iso_timestamps_sorted(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "timestamp,input_tokens,output_tokens\n"
        "2025-01-01T00:00:02Z,30,3\n"
        "2025-01-01T00:00:00Z,10,1\n"
        "2025-01-01T00:00:01.5Z,20,2\n"
    )
    rows = read_replay(path)
    assert [r[1:] for r in rows] == [(10, 1), (20, 2), (30, 3)]
    # 00:00:00 -> 00:00:01.5 -> 00:00:02: offsets 1.5 s and 2 s after the first.
    assert [r[0] - rows[0][0] for r in rows] == pytest.approx([0.0, 1.5, 2.0])


def test_jsonl_with_openai_usage_names_and_no_times(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text(
        '{"prompt_tokens": 5, "completion_tokens": 7}\n'
        "\n"  # blank lines are skipped
        '{"prompt_tokens": 6, "completion_tokens": 8}\n'
    )
    assert read_replay(path) == [(None, 5, 7), (None, 6, 8)]
    assert read_replay(path, limit=1) == [(None, 5, 7)]


def test_bad_logs_say_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("timestamp,tokens\n1,2\n")
    with pytest.raises(BenchError, match="lacks token counts"):
        read_replay(path)
    with pytest.raises(BenchError, match="no such file"):
        read_replay(tmp_path / "missing.csv")
