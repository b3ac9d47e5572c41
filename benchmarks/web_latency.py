"""Server time for the page's edit round trip on a 5-option scenario (target: under 300 ms).

    python benchmarks/web_latency.py [--edits 50]

Each edit changes the monthly volume and posts the scenario to ``POST /api/view`` (what the page
does on every edit: evaluate, the curves for the chart, the recommendation, the tornado, the
tables and the chart specs), through a real uvicorn server on loopback; ``POST /api/evaluate``
alone is timed too. Two scenarios: five point-valued options, and five options with ranges (the
page then also runs its 2,000-month simulation). The first request (catalog warm-up, imports) is
reported separately.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
import uvicorn
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from llm_tco.web.app import create_app  # noqa: E402

SCENARIO = yaml.safe_load((ROOT / "benchmarks" / "five-options.yaml").read_text())
RANGES = yaml.safe_load((ROOT / "benchmarks" / "uncertainty_scenario.yaml").read_text())


def _serve() -> tuple[uvicorn.Server, str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def _edits(count: int) -> list[dict]:
    """The scenario at ``count`` volumes from 1M to 100M requests/month."""
    edits = []
    for i in range(count):
        edit = copy.deepcopy(SCENARIO)
        edit["workload"]["requests_per_month"] = 1e6 * 100 ** (i / max(1, count - 1))
        edits.append(edit)
    return edits


def _range_edits(count: int) -> list[dict]:
    """The ranges scenario with its median volume from 100M to 10B tokens/month."""
    edits = []
    for i in range(count):
        edit = copy.deepcopy(RANGES)
        median = 1e8 * 100 ** (i / max(1, count - 1))
        edit["workload"]["tokens_per_month"] = {"lognormal": {"median": median, "p90": 3 * median}}
        edits.append(edit)
    return edits


def _time(client: httpx.Client, path: str, edits: list[dict]) -> list[float]:
    times = []
    for edit in edits:
        start = time.perf_counter()
        response = client.post(path, json=edit)
        times.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return times


def _summary(name: str, times: list[float]) -> str:
    times = sorted(times)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return (
        f"| {name} | {len(times)} | {statistics.median(times):.1f} | {p95:.1f} | {times[-1]:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=50)
    args = parser.parse_args()
    server, url = _serve()
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            start = time.perf_counter()
            client.post("/api/view", json=SCENARIO).raise_for_status()
            first_ms = (time.perf_counter() - start) * 1000
            edits = _edits(args.edits)
            view = _time(client, "/api/view", edits)
            evaluate = _time(client, "/api/evaluate", edits)
            ranged = _time(client, "/api/view", _range_edits(args.edits))
    finally:
        server.should_exit = True
    print(f"first request (warm-up): {first_ms:.0f} ms")
    print("| endpoint | edits | median ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    print(_summary("POST /api/view (page edit)", view))
    print(_summary("POST /api/evaluate", evaluate))
    print(_summary("POST /api/view, ranges (2,000-month simulation)", ranged))


if __name__ == "__main__":
    main()
