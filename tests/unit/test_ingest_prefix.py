"""Prefix reuse measured from logged prompts (``ingest.prefix``), against hand counts.

The fixture: a shared system prompt of exactly 640 characters (10 blocks of 64) and a user
message of 640 characters of its own (10 more blocks) in every request, 1,000 input tokens each.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from llm_tco.ingest import ingest
from llm_tco.ingest.prefix import BLOCK_CHARS

SYSTEM = ("You are the support assistant of Example Co. Answer briefly. " * 20)[:640]


def user(n: int) -> str:
    # Each user message differs from its very first character, so no block after the system
    # prompt is shared.
    return (f"{n:03d} question about order {n}: " * 40)[:640]


# (seconds after 09:00, user message number)
ARRIVALS = [(0, 1), (60, 2), (120, 3), (180, 4), (240, 5), (840, 6), (870, 6)]


def write_log(path: Path, prompts: bool = True) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i, (second, n) in enumerate(ARRIVALS):
            text = SYSTEM + user(n)
            row = {
                "request_id": f"r{i}",
                "timestamp": f"2025-05-05T09:{second // 60:02d}:{second % 60:02d}Z",
                "model": "m",
                "input_tokens": 1000,
                "output_tokens": 100,
            }
            if prompts:
                row["prompt"] = text
            else:
                row["prompt_hash"] = hashlib.sha256(text.encode()).hexdigest()
            out.write(json.dumps(row) + "\n")
    return path


def test_shared_system_prompt_gives_the_hand_counted_share(tmp_path: Path) -> None:
    """Hand count, 300 s lifetime, 64-character blocks, 1,280-character prompts:

    - 09:00:00 first request: nothing seen, 0 reused.
    - 09:01 .. 09:04 (four requests): the 10 system-prompt blocks were seen 60 s before; the
      user blocks differ: 640 / 1,280 of 1,000 tokens = 500 reused each, 2,000 in all.
    - 09:14:00: the last use of the system prompt was 09:04, 600 s before, past the lifetime:
      0 reused.
    - 09:14:30: the same prompt as 30 s before, all 20 blocks seen: 1,000 reused.

    Reused 3,000 of 7,000 input tokens: 3/7 = 0.428571.
    """
    assert BLOCK_CHARS == 64 and len(SYSTEM) == 640
    s = ingest([write_log(tmp_path / "log.jsonl")], price=None)
    g = s.groups["all"]
    assert g.prefix_reuse_share == pytest.approx(3000 / 7000)
    assert g.prefix_reuse_requests == 7
    assert g.input_tokens == 7000


def test_a_longer_lifetime_keeps_the_system_prompt(tmp_path: Path) -> None:
    """With a one-hour lifetime the 09:14:00 request reuses the system prompt too:
    2,000 + 500 + 1,000 = 3,500 of 7,000 = 0.5."""
    from llm_tco.ingest.engine import scan_files
    from llm_tco.ingest.summary import summarise

    scan = scan_files([write_log(tmp_path / "log.jsonl")], cache_ttl_s=3600)
    assert summarise(scan).groups["all"].prefix_reuse_share == pytest.approx(0.5)


def test_prompt_hashes_count_exact_repeats(tmp_path: Path) -> None:
    """Only a hash of the whole prompt: the one exact repeat (09:14:30) counts all its 1,000
    input tokens; 1,000 / 7,000."""
    s = ingest([write_log(tmp_path / "log.jsonl", prompts=False)], price=None)
    assert s.groups["all"].prefix_reuse_share == pytest.approx(1000 / 7000)


def test_no_prompts_no_measure(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("timestamp,model,input_tokens,output_tokens\n2025-05-05T09:00:00Z,m,10,1\n")
    g = ingest([path], price=None).groups["all"]
    assert g.prefix_reuse_share is None and g.prefix_reuse_requests == 0


def test_llm_cli_system_prompt_leads_the_prefix(tmp_path: Path) -> None:
    """simonw/llm's logs.db keeps ``system`` and ``prompt`` apart; the system prompt is read
    first. Two requests 60 s apart with the same 640-character system prompt and different
    640-character prompts (joined by one newline, 1,281 characters): the second reuses 10
    blocks, 640 / 1,281 of its 1,000 input tokens."""
    path = tmp_path / "logs.db"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE responses (id TEXT, model TEXT, prompt TEXT, system TEXT, "
        "datetime_utc TEXT, input_tokens INTEGER, output_tokens INTEGER, token_details TEXT)"
    )
    for i, second in enumerate((0, 60)):
        db.execute(
            "INSERT INTO responses VALUES (?, 'm', ?, ?, ?, 1000, 10, NULL)",
            (f"r{i}", user(i), SYSTEM, f"2025-05-05T09:0{second // 60}:00"),
        )
    db.commit()
    db.close()
    g = ingest([path], price=None).groups["all"]
    assert g.prefix_reuse_share == pytest.approx(1000 * 640 / 1281 / 2000)


def test_workload_section_carries_the_share(tmp_path: Path) -> None:
    from llm_tco.ingest import workload_from_logs

    section = workload_from_logs(write_log(tmp_path / "log.jsonl"))
    assert section["prefix_reuse_share"] == pytest.approx(3 / 7, abs=1e-6)
