"""A 500-prompt quality pilot on two loopback endpoints, interrupted with Ctrl-C and resumed.

Both endpoints are the test suite's fault proxy answering canned replies (no model): "api"
cycles pass, fail, pass, 429 (Retry-After 0.05 s), "own" always passes. The run is sent SIGINT
after 300 requests, then the same command is run again. Prints the time each part took, the
requests the servers saw against the records kept, how many prompts finished in the first run
were sent again (must be 0), and the figures of the result.

    python benchmarks/quality_resume.py
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests" / "integration")]

from quality_support import QuotaProxy  # noqa: E402

from llm_tco.quality.prompts import load_prompts  # noqa: E402
from llm_tco.quality.store import RequestRow  # noqa: E402

TASKS = ["extract", "math", "chat", "code"]


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    prompts = folder / "prompts.jsonl"
    rows = [{"prompt": f"question {i}", "task": TASKS[i % 4]} for i in range(2000)]
    prompts.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with (
        QuotaProxy(
            "http://127.0.0.1:9", faults=["pass", "fail", "pass", "429"], retry_after="0.05"
        ) as api,
        QuotaProxy("http://127.0.0.1:9", faults=["pass"]) as own,
    ):
        args = [
            sys.executable, "-m", "llm_tco", "quality", "--prompts", str(prompts),
            "--endpoint", f"api={api.url},model=x,price_in=1,price_out=5",
            "--endpoint", f"own={own.url},model=y,price_in=0.2,price_out=0.2",
            "--grade", "regex:PASS", "--reask", "1", "--concurrency", "8",
            "--dir", str(folder / "run"), "--quiet", "-f", "json",
        ]  # fmt: skip
        started = time.monotonic()
        process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        while len(api.seen) + len(own.seen) < 300:
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        first = json.loads(process.communicate(timeout=60)[0])
        stopped = time.monotonic()
        second = json.loads(subprocess.run(args, env=env, capture_output=True, check=True).stdout)
        finished = time.monotonic()
        seen = len(api.seen) + len(own.seen)
    kept_first = first["records_kept"]
    print(f"first run: {first['stopped']} after {stopped - started:.1f} s, {kept_first} kept")
    print(f"resumed:   {second['stopped']} after {finished - stopped:.1f} s")
    sent, kept_all = second["requests_sent"], second["records_kept"]
    print(f"requests seen by the servers {seen}, sent {sent}, kept {kept_all}")
    text = {item.id: item.messages[0].content for item in load_prompts(prompts)}
    kept = [
        RequestRow.model_validate_json(line)
        for line in (folder / "run" / "state.jsonl").read_text().splitlines()[1:]
    ]
    before, after = kept[: first["records_kept"]], kept[first["records_kept"] :]
    spent: Counter[tuple[str, str]] = Counter()
    done = set()
    for row in before:
        if row.counts_as_attempt:
            spent[(row.endpoint, row.prompt_id)] += 1
            if row.accepted or spent[(row.endpoint, row.prompt_id)] >= 2:
                done.add((row.endpoint, text[row.prompt_id]))
    again = done & {(r.endpoint, text[r.prompt_id]) for r in after if r.role == "answer"}
    print(f"prompts finished in the first run: {len(done)}; sent again after resume: {len(again)}")
    print(f"sample by task: {second['tasks']}")
    for e in second["endpoints"]:
        a = e["acceptance"]
        print(
            f"{e['name']}: {a['accepted']}/{a['graded']} accepted, "
            f"95% [{a['low']:.4f}, {a['high']:.4f}]; attempts {e['attempts']}, "
            f"retry rate {e['retry_rate']:.3f}, 429s {e['rate_limited']}, "
            f"cost ${e['cost_usd']:.6f}, per accepted ${e['cost_per_accepted_usd']:.8f}"
        )
    d = second["differences"][0]
    print(
        f"{d['endpoint']} - {d['versus']}: {d['difference']:+.3f} "
        f"[{d['low']:+.4f}, {d['high']:+.4f}]"
    )


if __name__ == "__main__":
    main()
