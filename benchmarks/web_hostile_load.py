"""Is the page responsive while it is flooded? Loopback only, bounded in count and time.

Starts `llm-tco serve` on 127.0.0.1 in a child process, then measures /api/health latency
(p50/p99/max, ms, from a separate probe process) while (a) 5 MB YAML bodies are posted for
3 s, and (b) N concurrent /api/view requests run. Prints one JSON object; exit status 1 if a
bound is missed (health p99 under 100 ms during (a), under 200 ms and no error during (b)).

    PYTHONPATH=src python benchmarks/web_hostile_load.py --views 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = (ROOT / "examples" / "seed1-high-volume-haiku-vs-llama.yaml").read_bytes()
YAML = {"content-type": "application/yaml"}
PROBE_START_S = 120.0  # the longest a probe process may take to get its first answer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def big_yaml(size: int = 5 * 1024 * 1024 - 1024) -> bytes:
    """A scenario with a description that fills the body to ``size`` bytes, in many lines."""
    line = "  lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod\n"
    head = b"description: |\n"
    body = (line * (size // len(line))).encode()[: size - len(head) - len(SCENARIO) - 2]
    return head + body + b"\n" + SCENARIO


def probe_forever(base: str) -> None:
    """Child process: GET /api/health every 20 ms, print each latency (ms) on its own line.
    Apart from the load generator, so its own work does not count as the server's."""
    with httpx.Client(base_url=base, timeout=30) as client:
        while True:
            start = time.perf_counter()
            status = client.get("/api/health").status_code
            print(f"{(time.perf_counter() - start) * 1000:.2f} {status}", flush=True)
            time.sleep(0.02)


class Probe:
    """A probe process for the duration of a ``with`` block; ``latencies`` after it."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.latencies: list[float] = []

    def __enter__(self) -> Probe:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--probe", self.base], stdout=subprocess.PIPE, text=True
        )
        self._first_answer()
        return self

    def _first_answer(self, bound_s: float = PROBE_START_S) -> None:
        """Wait until the probe has had its first answer: its start-up (a Python process and
        its first connection) is not part of the measurement. A fixed wait is not enough: on a
        loaded machine the start takes longer than the load phase, and the probe then measures
        nothing. Read from the pipe itself, so no answer after the first is held in a buffer."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + bound_s
        seen = b""
        while b"\n" not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.process.kill()
                raise RuntimeError(f"the health probe had no answer within {bound_s:g} s")
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError(f"the health probe exited (status {self.process.wait()})")
            seen += chunk

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        out, _ = self.process.communicate(timeout=10)
        lines = [line.split() for line in out.splitlines() if line.strip()]
        self.latencies = [float(ms) for ms, status in lines if status == "200"]
        self.failures = sum(1 for _, status in lines if status != "200")


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0}
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"n": len(ordered), "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": ordered[-1]}


async def measure(base: str, views: int, timeout_s: float) -> dict[str, object]:
    limits = httpx.Limits(max_connections=views + 10)
    async with httpx.AsyncClient(base_url=base, timeout=timeout_s, limits=limits) as client:
        for _ in range(50):  # wait for the server
            try:
                if (await client.get("/api/health")).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.2)
        report: dict[str, object] = {}
        # (a) 5 MB YAML bodies, one after another for a few seconds
        body = big_yaml()
        with Probe(base) as probe:
            start = time.perf_counter()
            statuses = []
            while time.perf_counter() - start < 3:
                reply = await client.post("/api/evaluate", content=body, headers=YAML)
                statuses.append(reply.status_code)
        report["yaml_5mb"] = {
            "posted": len(statuses),
            "statuses": sorted(set(statuses)),
            "seconds": round(time.perf_counter() - start, 2),
            "health": stats(probe.latencies),
        }
        # (b) N concurrent /api/view
        with Probe(base) as probe:
            start = time.perf_counter()
            replies = await asyncio.gather(
                *(client.post("/api/view", content=SCENARIO, headers=YAML) for _ in range(views)),
                return_exceptions=True,
            )
        codes: dict[str, int] = {}
        for reply in replies:
            key = (
                str(reply.status_code)
                if isinstance(reply, httpx.Response)
                else type(reply).__name__
            )
            codes[key] = codes.get(key, 0) + 1
        report["views"] = {
            "requests": views,
            "answers": codes,
            "errors": views - codes.get("200", 0),
            "seconds": round(time.perf_counter() - start, 2),
            "health": stats(probe.latencies),
        }
        return report


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--views", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        probe_forever(args.probe)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen(
        [sys.executable, "-m", "llm_tco", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        report = asyncio.run(measure(f"http://127.0.0.1:{port}", args.views, args.timeout))
    finally:
        server.terminate()
        server.wait(10)
    print(json.dumps(report, indent=2))
    views = report["views"]
    yaml_health = report["yaml_5mb"]["health"]  # type: ignore[index]
    ok = views["errors"] == 0 and views["health"]["p99_ms"] < 200  # type: ignore[index]
    ok = ok and yaml_health.get("p99_ms", 0) < 100
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
