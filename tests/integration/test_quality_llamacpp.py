"""`llm-tco quality` against a real llama.cpp server (a tiny random-weight model) and the fault
proxy: grading, re-asks, 429 handling, interruption and resume, budgets, the judge, privacy of
the output folder, and the --out -> recommend round trip.

Only loopback addresses are used; every run is bounded in requests and seconds. The tiny model
answers with random words, deterministic at temperature 0; which answers pass is worked out
here from the stored answers, independently of the product's grading.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench_support import FaultProxy, llama_server, llama_server_missing
from quality_support import QuotaProxy
from tiny_gguf import write_tiny_llama
from typer.testing import CliRunner

from llm_tco.cli import app
from llm_tco.quality.store import RequestRow

ROOT = Path(__file__).resolve().parents[2]
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
         "juliet", "kilo", "lima"]  # fmt: skip
# At temperature 1.5 some of the tiny model's random answers hold one of these words, some not.
ACCEPT = r"\b(the|of|and|to|in|is|a|e|i|o)\b"

if (missing := llama_server_missing()) is not None:
    pytest.skip(missing, allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    model = write_tiny_llama(tmp_path_factory.mktemp("model") / "tiny.gguf")
    with llama_server(model) as url:
        yield url


def prompts_file(folder: Path, n: int = 6, marker: str = "zq") -> Path:
    path = folder / "prompts.jsonl"
    rows = [
        {"prompt": f"{marker} {WORDS[i % len(WORDS)]} {i}: name one word", "task": "ab"[i % 2]}
        for i in range(n)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def quality(args: list[str]) -> tuple[int, str]:
    """``llm-tco quality ARGS`` in-process, through the main command line."""
    result = CliRunner().invoke(app, ["quality", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return result.exit_code, f"{result.output}\n{result.exception!r}"
    return result.exit_code, result.stdout if result.exit_code == 0 else result.output


def run_json(args: list[str]) -> dict:
    code, output = quality([*args, "--format", "json", "--quiet"])
    assert code == 0, output
    return json.loads(output)


def rows(folder: Path) -> list[RequestRow]:
    lines = (folder / "state.jsonl").read_text().splitlines()[1:]
    return [RequestRow.model_validate_json(line) for line in lines]


def endpoint(name: str, url: str, extra: str = "") -> list[str]:
    return ["--endpoint", f"{name}={url},model=tiny,max_tokens=6,price_in=1,price_out=5{extra}"]


def test_grading_two_endpoints_matches_the_stored_answers(server: str, tmp_path: Path) -> None:
    with FaultProxy(server, faults=["ok"]) as proxy:
        data = run_json(
            [
                "--prompts", str(prompts_file(tmp_path, 8)),
                *endpoint("chat", proxy.url, ",temperature=1.5"),
                *endpoint("plain", proxy.url + "/v1", ",api=completions,temperature=1.5"),
                "--grade", f"regex:{ACCEPT}",
                "--dir", str(tmp_path / "run"), "--keep-outputs",
                "--html", str(tmp_path / "r.html"),
            ]
        )  # fmt: skip
    kept = rows(tmp_path / "run")
    # Requests sent (counted by the proxy) = records kept = the result's count.
    assert len(proxy.seen) == len(kept) == data["requests_sent"] == data["records_kept"] == 16
    for summary in data["endpoints"]:
        answers = [r for r in kept if r.endpoint == summary["name"]]
        assert len(answers) == 8 and all(r.answer is not None for r in answers)
        passing = sum(re.search(ACCEPT, r.answer or "") is not None for r in answers)
        assert summary["acceptance"]["accepted"] == passing
        assert summary["acceptance"]["graded"] == 8
        assert summary["latency_ms"]["p50"] > 0 and summary["output_tokens"] > 0
        by_task = {t["task"]: t["acceptance"]["graded"] for t in summary["by_task"]}
        assert by_task == {"a": 4, "b": 4}
    assert data["differences"][0]["endpoint"] == "plain"
    html = (tmp_path / "r.html").read_text()
    assert "Acceptance per endpoint" in html and "Latency, tokens and cost" in html


def test_reasks_are_counted(server: str, tmp_path: Path) -> None:
    # At temperature 1.5 each re-ask gives another answer, so some failures pass later.
    data = run_json(
        [
            "--prompts", str(prompts_file(tmp_path, 6)),
            *endpoint("hot", server, ",temperature=1.5"),
            "--grade", f"regex:{ACCEPT}", "--reask", "2", "--dir", str(tmp_path / "run"),
        ]
    )  # fmt: skip
    kept = rows(tmp_path / "run")
    by_prompt: dict[str, list[RequestRow]] = {}
    for row in kept:
        by_prompt.setdefault(row.prompt_id, []).append(row)
    attempts = 0
    accepted = 0
    for answers in by_prompt.values():
        assert [r.attempt for r in answers] == list(range(1, len(answers) + 1))
        # A prompt stops at its first accepted answer, or after 1 + 2 re-asks.
        assert all(not r.accepted for r in answers[:-1])
        assert answers[-1].accepted or len(answers) == 3
        attempts += len(answers)
        accepted += bool(answers[-1].accepted)
    summary = data["endpoints"][0]
    assert summary["attempts"] == attempts and summary["acceptance"]["accepted"] == accepted
    assert summary["retry_rate"] == pytest.approx(attempts / 6 - 1)
    if accepted:
        assert summary["attempts_per_accepted"] == pytest.approx(attempts / accepted)


def test_server_errors_are_failed_attempts(server: str, tmp_path: Path) -> None:
    with FaultProxy(server, faults=["503", "ok"]) as proxy:
        data = run_json(
            [
                "--prompts", str(prompts_file(tmp_path, 4)), *endpoint("flaky", proxy.url),
                "--grade", "regex:.", "--reask", "1", "--concurrency", "1",
                "--dir", str(tmp_path / "run"),
            ]
        )  # fmt: skip
    summary = data["endpoints"][0]
    # Each prompt: a 503, then an answer (every answer passes `regex:.`).
    assert proxy.seen == ["503", "ok"] * 4
    assert summary["errors"] == {"http_5xx": 4} and summary["attempts"] == 8
    assert summary["acceptance"]["accepted"] == 4 and summary["retry_rate"] == 1.0


def test_429_waits_for_retry_after_and_spends_no_attempt(server: str, tmp_path: Path) -> None:
    with QuotaProxy(server, faults=["429", "ok"], retry_after="1") as proxy:
        started = time.monotonic()
        data = run_json(
            [
                "--prompts", str(prompts_file(tmp_path, 3)), *endpoint("limited", proxy.url),
                "--grade", "regex:.", "--concurrency", "1", "--dir", str(tmp_path / "run"),
            ]
        )  # fmt: skip
        elapsed = time.monotonic() - started
    summary = data["endpoints"][0]
    assert proxy.seen == ["429", "ok"] * 3
    assert summary["rate_limited"] == 3 and summary["attempts"] == 3
    assert summary["acceptance"]["accepted"] == 3
    assert summary["waited_s"] >= 3 * 0.95 and elapsed >= 3 * 0.95  # Retry-After: 1, three times
    assert data["requests_sent"] == data["records_kept"] == 6


def test_429_waits_are_bounded(server: str, tmp_path: Path) -> None:
    # The server asks for an hour and keeps refusing: waits are cut to --max-wait 0.2 s and
    # after 5 of them the answer counts as not given.
    with QuotaProxy(server, faults=["429"], retry_after="3600") as proxy:
        started = time.monotonic()
        data = run_json(
            [
                "--prompts", str(prompts_file(tmp_path, 1)), *endpoint("closed", proxy.url),
                "--grade", "regex:.", "--max-wait", "0.2", "--dir", str(tmp_path / "run"),
            ]
        )  # fmt: skip
    assert time.monotonic() - started < 20
    assert len(proxy.seen) == 6  # the first request and 5 more after waits
    summary = data["endpoints"][0]
    assert summary["acceptance"] == {"accepted": 0, "graded": 1, "rate": 0.0, "low": 0.0,
                                     "high": pytest.approx(0.7935, abs=1e-4)}  # fmt: skip
    assert summary["errors"] == {"rate_limited": 6}


def _interrupt(args: list[str], proxy: QuotaProxy, after: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-m", "llm_tco", "quality", *args, "--quiet"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while len(proxy.seen) < after and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def test_interrupted_run_resumes_without_sending_a_prompt_twice(
    server: str, tmp_path: Path
) -> None:
    prompts = prompts_file(tmp_path, 12)
    folder = tmp_path / "run"
    with QuotaProxy(server, faults=["delay"], delay_s=0.3) as proxy:
        args = [
            "--prompts", str(prompts), *endpoint("slow", proxy.url), "--grade", "regex:.",
            "--concurrency", "2", "--dir", str(folder),
        ]  # fmt: skip
        first = _interrupt(args, proxy, after=4)
        assert first.returncode == 0, first.stderr.decode()
        stopped = rows(folder)
        # Ctrl-C once: nothing new was sent, the requests in flight finished and were kept.
        assert 4 <= len(stopped) < 12 and len(stopped) == len(proxy.seen)
        sent_before = len(proxy.seen)
        data = run_json(args)
    assert data["stopped"] == "done" and data["endpoints"][0]["prompts_finished"] == 12
    texts = proxy.prompts_sent()
    assert len(texts) == 12 and len(set(texts)) == 12  # every prompt sent exactly once
    assert len(rows(folder)) == data["records_kept"] == data["requests_sent"] == 12
    assert sent_before < 12


def test_budgets_stop_the_run(server: str, tmp_path: Path) -> None:
    prompts = prompts_file(tmp_path, 10)
    common = ["--prompts", str(prompts), "--grade", "regex:.", "--concurrency", "1"]
    data = run_json(
        [*common, *endpoint("a", server), "--max-requests", "3", "--dir", str(tmp_path / "r1")]
    )
    assert data["stopped"] == "max_requests" and data["records_kept"] == 3
    # Worst case per request at $1/$5 per MTok with max_tokens 6: (bytes + 8) * 1e-6 + 6 * 5e-6,
    # about $0.00008; a $0.0002 cap allows two or three requests, never a spend above it.
    data = run_json(
        [*common, *endpoint("a", server), "--max-usd", "0.0002", "--dir", str(tmp_path / "r2")]
    )
    assert data["stopped"] == "max_usd" and 1 <= data["records_kept"] <= 3
    assert data["endpoints"][0]["cost_usd"] <= 0.0002
    started = time.monotonic()
    with QuotaProxy(server, faults=["hang"]) as proxy:
        data = run_json(
            [
                *common,
                *endpoint("a", proxy.url),
                "--max-seconds",
                "1",
                "--dir",
                str(tmp_path / "r3"),
            ]
        )
    assert data["stopped"] == "max_seconds" and time.monotonic() - started < 20
    assert data["records_kept"] == len(proxy.seen) == 1  # the hung request, kept as cancelled


def test_judge_grades_with_its_prompt_stored(server: str, tmp_path: Path) -> None:
    with QuotaProxy(server, faults=["pass", "fail"]) as judge:
        data = run_json(
            [
                "--prompts", str(prompts_file(tmp_path, 4)), *endpoint("a", server),
                "--grade", "judge",
                "--judge", f"j={judge.url},model=judge-model,price_in=3,price_out=15",
                "--rubric", "names exactly one word", "--concurrency", "1",
                "--dir", str(tmp_path / "run"),
            ]
        )  # fmt: skip
    summary = data["endpoints"][0]
    assert summary["acceptance"]["accepted"] == 2 and summary["acceptance"]["graded"] == 4
    # Judge replies: 50 tokens in and 5 out at $3/$15 per MTok = 0.00015 + 0.000075 = $0.000225.
    assert summary["judge_cost_usd"] == pytest.approx(4 * 0.000225)
    assert data["judge"]["rubric"] == "names exactly one word"
    assert "{answer}" in data["judge"]["prompt_template"]
    sent = judge.prompts_sent()
    assert len(sent) == 4 and all("names exactly one word" in text for text in sent)


def test_pairwise_judge_compares_with_the_baseline(server: str, tmp_path: Path) -> None:
    # The judge always answers "VERDICT: A": the candidate wins exactly when shown first.
    with QuotaProxy(server, faults=["a"]) as judge:
        data = run_json(
            [
                "--prompts", str(prompts_file(tmp_path, 6)),
                *endpoint("chat", server), *endpoint("plain", server, ",api=completions"),
                "--grade", "regex:.", "--judge", f"j={judge.url},model=judge-model",
                "--pairwise", "--keep-outputs", "--dir", str(tmp_path / "run"),
            ]
        )  # fmt: skip
    kept = rows(tmp_path / "run")
    answers = {(r.endpoint, r.prompt_id): r.answer for r in kept if r.role == "answer"}
    shown_first = 0
    for body, row in zip(
        judge.prompts_sent(), [r for r in kept if r.role == "pairwise"], strict=True
    ):
        a_part = body.split("Answer A:")[1].split("Answer B:")[0]
        candidate = answers[("plain", row.prompt_id)]
        assert candidate is not None
        shown_first += candidate.strip() in a_part and answers[("chat", row.prompt_id)] != candidate
    pair = data["pairwise"][0]
    assert (pair["endpoint"], pair["versus"], pair["compared"]) == ("plain", "chat", 6)
    assert pair["wins"] == shown_first and pair["losses"] == 6 - shown_first
    assert (
        data["judge"]["modes"] == ["pairwise"]
        and "{answer_b}" in data["judge"]["pairwise_prompt_template"]
    )


def test_redirects_are_not_followed(server: str, tmp_path: Path) -> None:
    with (
        FaultProxy(server, faults=["ok"]) as canary,
        FaultProxy(
            server, faults=["redirect"], redirect_to=f"{canary.url}/v1/chat/completions"
        ) as proxy,
    ):
        data = run_json(
            ["--prompts", str(prompts_file(tmp_path, 2)), *endpoint("r", proxy.url),
             "--grade", "regex:.", "--dir", str(tmp_path / "run")]
        )  # fmt: skip
    assert data["endpoints"][0]["errors"] == {"redirect": 2}
    assert canary.seen == []  # only the given endpoint was contacted


def test_nothing_of_a_prompt_or_answer_is_written_without_keep_outputs(
    server: str, tmp_path: Path
) -> None:
    prompts = prompts_file(tmp_path, 6, marker="zebraquux")
    base = ["--prompts", str(prompts), *endpoint("a", server), "--grade", f"regex:{ACCEPT}"]
    # The same run with --keep-outputs (temperature 0: the same answers) tells what to look for.
    run_json([*base, "--dir", str(tmp_path / "kept"), "--keep-outputs"])
    answers = {r.answer for r in rows(tmp_path / "kept") if r.answer}
    secret = tmp_path / "secret"
    run_json(
        [*base, "--dir", str(secret), "--html", str(secret / "r.html"),
         "--out", str(secret / "s.yaml"), "--requests-per-month", "1M"]
    )  # fmt: skip
    files = sorted(p for p in secret.rglob("*") if p.is_file())
    assert {p.name for p in files} == {"state.jsonl", "result.json", "r.html", "s.yaml"}
    texts = [json.loads(line)["prompt"] for line in prompts.read_text().splitlines()]
    for file in files:
        content = file.read_text()
        assert "zebraquux" not in content, file
        for text in texts:
            assert text not in content
        for answer in answers:
            # Answers of several words are the model's own text; single words could be anywhere.
            if len(answer.split()) > 2:
                assert answer.strip() not in content, file
    assert (tmp_path / "kept" / "prompts.jsonl").exists()


def test_out_scenario_and_recommend_cite_the_measured_rates(server: str, tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    hot = ",temperature=1.5"  # at temperature 0 the tiny model says the same to every prompt
    data = run_json(
        [
            "--prompts", str(prompts_file(tmp_path, 12)),
            *endpoint("chat", server, hot), *endpoint("plain", server, ",api=completions" + hot),
            "--grade", f"regex:{ACCEPT}", "--reask", "1", "--dir", str(tmp_path / "run"),
            "--out", str(scenario), "--requests-per-month", "2M",
        ]
    )  # fmt: skip
    import yaml

    written = yaml.safe_load(scenario.read_text())
    kept = [e for e in data["endpoints"] if e["acceptance"]["accepted"]]
    assert kept, "the tiny model accepted nothing: choose another ACCEPT pattern"
    for summary in kept:
        option = next(o for o in written["options"] if o["name"] == summary["name"])
        a = summary["acceptance"]
        rate = option["acceptance_rate"]
        expected = [round(a["low"], 4), round(a["rate"], 4), round(a["high"], 4)]
        assert (
            rate["triangular"] if isinstance(rate, dict) else [rate] * 3
        ) == expected or rate == expected[1]
        assert option["api"] == {"input_per_mtok": 1.0, "output_per_mtok": 5.0}
        assert f"{a['accepted']} of {a['graded']} prompts accepted" in option["acceptance_source"]
    result = CliRunner().invoke(app, ["recommend", str(scenario), "--samples", "0"])
    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.split())  # the terminal wraps long reasons
    assert "acceptance rates measured on your own prompts:" in shown
    for summary in kept:
        a = summary["acceptance"]
        cited = f"{summary['name']} {a['rate']:.1%} (95% interval {a['low']:.1%}-{a['high']:.1%})"
        assert cited in shown
        assert f"{a['accepted']} of {a['graded']} prompts accepted" in shown
