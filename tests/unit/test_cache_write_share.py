"""Cache writes measured in the logs reach the API's cache-write price, by hand-worked amounts.

Log (made in the test): four requests of 1,000 input + 100 output tokens in one day; the first
writes 800 tokens to the provider's prompt cache (``cache_write_tokens``), the next three read
them (``cached_tokens`` 800). Input 4,000 tokens: 800 written (20%), 2,400 read (60%), 800
plain. One day scaled to the 30-day month: 120,000 input and 12,000 output tokens.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llm_tco.evaluate import evaluate
from llm_tco.ingest import ingest, workload_from_logs
from llm_tco.scenario import Scenario

API = {
    "input_per_mtok": 3.0,
    "output_per_mtok": 15.0,
    "cached_input_per_mtok": 0.3,
    "cache_write_per_mtok": 3.75,
}


def write_log(folder: Path) -> Path:
    rows = [
        {
            "timestamp": f"2025-03-03T10:0{i}:00Z",
            "model": "claude-sonnet-4-5",
            "input_tokens": 1000,
            "output_tokens": 100,
            "cached_tokens": 0 if i == 0 else 800,
            "cache_write_tokens": 800 if i == 0 else 0,
        }
        for i in range(4)
    ]
    path = folder / "requests.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def scenario(log: Path, api: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "cache writes",
            "workload": {"from_logs": str(log)},
            "options": [{"name": "api", "api": api}],
        }
    )


def test_the_logs_give_the_cache_write_share(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("LLM_TCO_CACHE_DIR", str(tmp_path / "cache"))
    log = write_log(tmp_path)
    assert ingest([log]).groups["all"].cache_write_input_share == pytest.approx(0.2)
    assert workload_from_logs(log)["cache_write_share"] == pytest.approx(0.2)


def test_the_api_bills_the_measured_writes_at_the_cache_write_price(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Per month: 24,000 plain input x $3/MTok = $0.072; 72,000 read x $0.30 = $0.0216;
    24,000 written x $3.75 = $0.09; 12,000 output x $15 = $0.18. Total $0.3636 (without the
    writes' share it would bill 48,000 plain input: $0.144 + $0.0216 + $0.18 = $0.3456)."""
    monkeypatch.setenv("LLM_TCO_CACHE_DIR", str(tmp_path / "cache"))
    log = write_log(tmp_path)
    option = evaluate(scenario(log, API)).options[0]
    assert option.breakdown["cache_write"] == pytest.approx(0.09)
    assert option.breakdown["input"] == pytest.approx(0.072)
    assert option.breakdown["cached_input"] == pytest.approx(0.0216)
    assert option.monthly_cost == pytest.approx(0.3636)
    # The option's own share wins over the logs' (here: no writes at all).
    own = evaluate(scenario(log, {**API, "cache_write_share": 0.0})).options[0]
    assert "cache_write" not in own.breakdown
    assert own.monthly_cost == pytest.approx(0.3456)


def test_a_stated_workload_share_is_billed_the_same_way() -> None:
    """465M requests of 1,000 + 200 tokens (465B input, 93B output), 20% of the input written:
    93,000 MTok x $3.75 = $348,750 of writes; 372,000 MTok plain x $3 = $1,116,000; output
    93,000 x $15 = $1,395,000. Total $2,859,750."""
    data = {
        "name": "stated",
        "workload": {
            "requests_per_month": 465e6,
            "input_tokens_per_request": 1000,
            "output_tokens_per_request": 200,
            "cache_write_share": 0.2,
        },
        "options": [{"name": "api", "api": API}],
    }
    option = evaluate(Scenario.model_validate(data)).options[0]
    assert option.breakdown["cache_write"] == pytest.approx(348_750)
    assert option.monthly_cost == pytest.approx(2_859_750)
