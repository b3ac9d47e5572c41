"""The harness against a real llama.cpp server (a tiny random-weight model) and a fault proxy.

Only loopback addresses are used; every run is bounded in requests and seconds.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from bench_support import FaultProxy, llama_server, llama_server_missing
from tiny_gguf import write_tiny_llama
from typer.testing import CliRunner

from llm_tco.bench import load_result
from llm_tco.bench.cli import register

ROOT = Path(__file__).resolve().parents[2]

if (missing := llama_server_missing()) is not None:
    pytest.skip(missing, allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    model = write_tiny_llama(tmp_path_factory.mktemp("model") / "tiny.gguf")
    with llama_server(model) as url:
        yield url


def bench(args: str) -> tuple[int, str]:
    """Run ``llm-tco bench ARGS`` in-process (ARGS split on spaces)."""
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["bench", *args.split()])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return result.exit_code, f"{result.output}\n{result.exception!r}"
    return result.exit_code, result.output


def run_json(args: str, exit_code: int = 0) -> dict:
    """The result JSON; ``exit_code`` 1 when no request of some level succeeded."""
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["bench", *args.split(), "--format", "json"])
    assert result.exit_code == exit_code, f"{result.output}\n{result.exception!r}"
    return json.loads(result.stdout)


def test_completions_sweep_with_cost(server: str, tmp_path: Path) -> None:
    saved = tmp_path / "run.json"
    data = run_json(
        f"--endpoint {server} --model tiny --concurrency 1,2 --requests 6 --input-len 16 "
        f"--output-len 12 --hourly 2.49 --peak-output-tps 5000 -o {saved}"
    )
    assert [lv["concurrency"] for lv in data["levels"]] == [1, 2]
    for level in data["levels"]:
        assert level["requests_completed"] == 6 and level["errors"] == {}
        # The tiny model never emits </s>: every request streams exactly 12 token chunks.
        assert level["output_tokens_source"] == "chunks"
        tps = level["output_tokens_per_second"]
        assert tps > 0
        assert level["usd_per_mtok_output"] == pytest.approx(2.49 / (3600 * tps) * 1e6)
        assert {"p50", "p90", "p99"} <= set(level["ttft_ms"]) and level["tpot_ms"]["p50"] > 0
    saturation = max(lv["output_tokens_per_second"] for lv in data["levels"])
    assert data["deployments_needed"] == math.ceil(5000 / saturation)
    loaded = load_result(saved)
    assert all(r.output_tokens == 12 for lv in loaded.levels for r in lv.requests)
    # Prompts of 16 words: the server's own count is unknown in a stream, so it is estimated.
    assert loaded.levels[0].requests[0].input_tokens_source == "estimate"
    out_tps, _, rps = loaded.capacity_at_slo(None, None)
    assert out_tps == pytest.approx(saturation)
    assert rps == pytest.approx(out_tps / 12)


def test_chat_endpoint(server: str) -> None:
    data = run_json(
        f"--endpoint {server}/v1 --model tiny --api chat --requests 3 --input-len 8 --output-len 5"
    )
    level = data["levels"][0]
    assert level["requests_completed"] == 3 and level["errors"] == {}
    assert level["output_tokens_per_second"] > 0


def test_faults_are_counted_by_kind_and_never_crash(server: str) -> None:
    faults = ["ok", "503", "drop", "truncate", "delay"]
    with FaultProxy(server, faults=faults, truncate_bytes=900) as proxy:
        data = run_json(
            f"--endpoint {proxy.url} --model tiny --concurrency 2 --requests 10 "
            "--input-len 8 --output-len 40"
        )
    level = data["levels"][0]
    # 10 requests through a cycle of 5 faults: each fault twice.
    assert sorted(proxy.seen) == sorted(faults * 2)
    assert level["errors"] == {"http_5xx": 2, "reset": 2, "truncated": 2}
    assert level["requests_completed"] == 4
    assert level["error_rate"] == pytest.approx(0.6)


def test_retries_recover_server_errors(server: str) -> None:
    with FaultProxy(server, faults=["503", "ok"]) as proxy:
        data = run_json(
            f"--endpoint {proxy.url} --model tiny --requests 3 --retries 1 "
            "--input-len 8 --output-len 4"
        )
    level = data["levels"][0]
    assert level["requests_completed"] == 3 and level["errors"] == {}
    assert level["retry_rate"] == pytest.approx(1.0)  # every request needed its one retry


def test_hung_server_times_out_within_bounds(server: str) -> None:
    with FaultProxy(server, faults=["hang"]) as proxy:
        started = time.monotonic()
        data = run_json(
            f"--endpoint {proxy.url} --model tiny --requests 2 --request-timeout 1", exit_code=1
        )
    assert data["levels"][0]["errors"] == {"timeout": 2}
    assert time.monotonic() - started < 15


def test_redirects_are_not_followed(server: str) -> None:
    with (
        FaultProxy(server, faults=["ok"]) as canary,
        FaultProxy(
            server, faults=["redirect"], redirect_to=f"{canary.url}/v1/completions"
        ) as proxy,
    ):
        data = run_json(f"--endpoint {proxy.url} --model tiny --requests 2", exit_code=1)
    assert data["levels"][0]["errors"] == {"redirect": 2}
    assert canary.seen == []  # only the given endpoint was contacted


def test_level_time_limit_stops_the_run(server: str) -> None:
    started = time.monotonic()
    data = run_json(
        f"--endpoint {server} --model tiny --requests 100000 --duration 1.5 "
        "--input-len 8 --output-len 8"
    )
    level = data["levels"][0]
    assert 0 < level["requests_completed"] < 100000
    assert time.monotonic() - started < 20


def test_goodput_search_is_bounded_and_meets_its_slo(server: str, tmp_path: Path) -> None:
    saved = tmp_path / "goodput.json"
    data = run_json(
        f"--endpoint {server} --model tiny --profile goodput --ttft-slo 2000 --requests 6 "
        f"--input-len 8 --output-len 8 --max-concurrency 8 -o {saved}"
    )
    concurrencies = [lv["concurrency"] for lv in data["levels"]]
    assert concurrencies[0] == 1 and len(concurrencies) <= 10 and max(concurrencies) <= 8
    best = load_result(saved).best_level(2000.0, None)
    assert best.slo_attainment is not None and best.slo_attainment >= 0.95


def test_sigint_writes_the_partial_result(server: str, tmp_path: Path) -> None:
    saved = tmp_path / "partial.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with FaultProxy(server, faults=["ok"]) as proxy:  # counts the requests that reach the server
        flags = (
            f"--endpoint {proxy.url} --model tiny --requests 100000 --duration 120 --quiet "
            f"--input-len 8 --output-len 8 -o {saved}"
        )
        command = [sys.executable, "-m", "llm_tco.bench.cli", "bench", *flags.split()]
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:
            # Interrupt once the run is under way (start-up time varies with the machine's load).
            deadline = time.monotonic() + 60
            while len(proxy.seen) < 5 and time.monotonic() < deadline:
                time.sleep(0.1)
            process.send_signal(signal.SIGINT)
            output, _ = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, output.decode()
    result = load_result(saved)
    assert result.interrupted
    assert result.levels[0].requests_completed >= 4


def test_constant_rate_and_replay(server: str, tmp_path: Path) -> None:
    data = run_json(
        f"--endpoint {server} --model tiny --rate 20 --arrival constant --requests 5 "
        "--input-len 8 --output-len 4"
    )
    level = data["levels"][0]
    assert level["rate"] == 20 and level["requests_completed"] == 5
    log = tmp_path / "log.csv"
    log.write_text("timestamp,input_tokens,output_tokens\n0,10,3\n1,12,4\n2,8,5\n")
    started = time.monotonic()
    replayed = run_json(f"--endpoint {server} --model tiny --replay {log} --replay-speed 4")
    # Logged 1 s apart, replayed 4x faster: the last request goes out 0.5 s after the first.
    assert time.monotonic() - started >= 0.5
    level = replayed["levels"][0]
    assert level["requests_completed"] == 3 and replayed["profile"] == "replay"
    assert level["output_tokens_per_second"] > 0
