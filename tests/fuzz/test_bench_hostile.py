"""The benchmark client against a misbehaving server: one record per request sent, whatever
the reply, and a non-zero exit when nothing succeeded. Loopback only; every run is bounded."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from fake_openai import FAILING, OK_CHUNKS, fake_server
from typer.testing import CliRunner

from llm_tco.bench.client import ClientConfig
from llm_tco.bench.profiles import LevelPlan, Limits
from llm_tco.bench.prompts import LengthSpec, synthetic_prompts
from llm_tco.bench.runner import BenchPlan, run_benchmark
from llm_tco.cli import app

REQUESTS = 6
# What each behaviour must be recorded as.
EXPECTED_KIND = {name: "protocol" for name in FAILING} | {
    "no-done": "truncated",
    "http-500": "http_5xx",
    "http-404": "http_4xx",
}


@pytest.fixture(scope="module")
def server() -> str:
    with fake_server() as url:
        yield url  # type: ignore[misc]


def run(endpoint: str, model: str, concurrency: int = 2, arrival: str = "closed") -> list:
    config = ClientConfig(endpoint=endpoint, model=model, request_timeout_s=10, retries=0)
    level = (
        LevelPlan(concurrency=concurrency)
        if arrival == "closed"
        else LevelPlan(arrival="constant", rate=50.0)
    )
    plan = BenchPlan(levels=[level], limits=Limits(max_requests=REQUESTS, max_duration_s=30))
    prompts = synthetic_prompts(
        REQUESTS, LengthSpec.parse(8, field="i"), LengthSpec.parse(4, field="o")
    )
    result = asyncio.run(run_benchmark(config, plan, prompts, handle_sigint=False))
    return result.levels[0].requests


@pytest.mark.parametrize("behaviour", FAILING)
@pytest.mark.parametrize("arrival", ["closed", "constant"])
def test_every_sent_request_is_one_record(server: str, behaviour: str, arrival: str) -> None:
    records = run(server, behaviour, arrival=arrival)
    assert len(records) == REQUESTS
    assert {r.error_kind for r in records} == {EXPECTED_KIND[behaviour]}, records[0].error_detail


def test_a_correct_server_counts_its_usage(server: str) -> None:
    records = run(server, "ok")
    assert len(records) == REQUESTS and all(r.ok for r in records)
    assert {(r.output_tokens, r.output_tokens_source) for r in records} == {(OK_CHUNKS, "usage")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("endpoint", "kind"),
    [
        (f"http://127.0.0.1:{free_port()}", "connect"),  # nothing listens there
        ("http://127.0.0.1:99999", "connect"),  # not a port
        ("ftp://127.0.0.1:21", "connect"),
    ],
)
def test_unreachable_endpoints_give_records_and_exit_1(endpoint: str, kind: str) -> None:
    records = run(endpoint, "ok")
    assert len(records) == REQUESTS and {r.error_kind for r in records} == {kind}
    result = CliRunner().invoke(
        app,
        ["bench", "--endpoint", endpoint, "--model", "m", "--requests", "3", "--format", "json"],
    )
    assert result.exit_code == 1, result.output
    assert "no request succeeded at concurrency 1: 3 sent, 3 failed (connect 3)" in result.stderr
    assert json.loads(result.stdout)["levels"][0]["requests_failed"] == 3


def test_cli_exits_1_when_every_request_fails_and_0_when_one_succeeds(server: str) -> None:
    args = ["bench", "--endpoint", server, "--requests", "4", "--format", "json", "--model"]
    failed = CliRunner().invoke(app, [*args, "usage-nan"])
    assert failed.exit_code == 1 and "(protocol 4)" in failed.stderr
    ok = CliRunner().invoke(app, [*args, "ok"])
    assert ok.exit_code == 0, ok.output


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--input-len", "1000000000"), ("--input-len", "1e9"), ("--output-len", "0")],
)
def test_prompt_lengths_are_bounded(flag: str, value: str) -> None:
    result = CliRunner().invoke(
        app, ["bench", "--endpoint", "http://127.0.0.1:1", "--model", "m", flag, value]
    )
    assert result.exit_code == 2
    assert "1,048,576" in result.stderr and flag.lstrip("-") in result.stderr
