"""Check the harness against GuideLLM on the same llama.cpp server in the same run.

Must hold: the harness's output tokens/s at saturation is within 10% of GuideLLM's, and its CPU
time per request is no more than GuideLLM's.

What it does, all on 127.0.0.1:
1. installs GuideLLM in its own virtual environment (``benchmarks/.venv-guidellm``; torch first,
   from the CPU wheel pip finds locally, then guidellm) unless it is there already;
2. writes the tiny random-weight llama model of the tests and serves it with llama-cpp-python;
3. runs ``llm-tco bench`` and ``guidellm run`` alternately, ``--rounds`` times each, with the same
   prompts (64 + 64 tokens by default) at the same concurrency; llama-cpp-python serves one
   request at a time, so any concurrency above 1 keeps it saturated;
4. measures each tool's CPU time (user + system, its process and its children, via ``wait4``)
   and takes GuideLLM's throughput from its own report, not from our importer;
5. writes the figures to ``benchmarks/bench_results.md``.

Run: ``python benchmarks/bench_vs_guidellm.py`` from the repository root (about 3 minutes on
2 cores once GuideLLM is installed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests" / "integration")]

from bench_support import llama_server  # noqa: E402
from tiny_gguf import write_tiny_llama  # noqa: E402

from llm_tco.bench import load_result  # noqa: E402
from llm_tco.bench.prompts import LengthSpec, synthetic_prompts  # noqa: E402

VENV = ROOT / "benchmarks" / ".venv-guidellm"
TORCH = "torch==2.13.0"


@dataclass
class Run:
    tool: str
    output_tokens_per_second: float
    requests: int
    cpu_s: float
    wall_s: float

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu_s / self.requests * 1000 if self.requests else float("nan")


def ensure_guidellm(venv: Path) -> Path:
    guidellm = venv / "bin" / "guidellm"
    if guidellm.exists():
        return guidellm
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, TORCH], check=True, timeout=1800)
    subprocess.run([*pip, "guidellm"], check=True, timeout=1800)
    return guidellm


def _cores() -> tuple[set[int], set[int] | None]:
    """(client cores, server cores): one core for the server, the rest for the clients."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return set(cores), None
    return set(cores[:-1]), {cores[-1]}


CLIENT_CORES, SERVER_CORES = _cores()


def timed(
    command: list[str], env: dict[str, str] | None = None, timeout_s: float = 900
) -> tuple[float, float, str]:
    """Run ``command``; return (CPU seconds of it and its children, wall seconds, output)."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=lambda: os.sched_setaffinity(0, CLIENT_CORES),
        )
        deadline = started + timeout_s
        try:
            while True:
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{command[0]} ran past {timeout_s} s")
                time.sleep(0.05)
        except BaseException:
            process.kill()  # Ctrl-C or the time limit: leave no tool running behind us
            process.wait(timeout=30)
            raise
        process.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read().decode("utf-8", "replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed:\n{output[-3000:]}")
    return usage.ru_utime + usage.ru_stime, time.monotonic() - started, output


def run_harness(url: str, args: argparse.Namespace, out: Path) -> Run:
    command = [
        sys.executable,
        "-m",
        "llm_tco.bench.cli",
        "bench",
        "--endpoint",
        url,
        "--model",
        "tiny",
        "--concurrency",
        str(args.concurrency),
        "--requests",
        str(args.requests),
        "--input-len",
        str(args.input_len),
        "--output-len",
        str(args.output_len),
        "--quiet",
        "-o",
        str(out),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cpu, wall, _ = timed(command, env)
    level = load_result(out).levels[0]
    return Run("llm-tco", level.output_tokens_per_second, level.requests_completed, cpu, wall)


def run_guidellm(
    guidellm: Path, url: str, args: argparse.Namespace, prompts: Path, out: Path
) -> Run:
    command = [
        str(guidellm),
        "run",
        "--backend",
        f"kind=openai_http,target={url},model=tiny,validate_backend=false,"
        "request_format=/v1/completions",
        "--profile",
        f"kind=concurrent,streams={args.concurrency}",
        "--constraint",
        f"kind=max_requests,count={args.requests}",
        "--data",
        f"kind=json_file,path={prompts}",
        "--output",
        f"kind=json,path={out}",
        "--disable-console-interactive",
    ]
    cpu, wall, _ = timed(command)
    benchmark = json.loads(out.read_text())["benchmarks"][0]
    # GuideLLM's own figure: total output tokens / benchmark duration.
    tps = benchmark["metrics"]["output_tokens_per_second"]["successful"]["mean"]
    completed = len(benchmark["requests"]["successful"])
    return Run("guidellm", tps, completed, cpu, wall)


def startup_cpu(guidellm: Path) -> dict[str, float]:
    """CPU to start each tool and print its help: the fixed cost inside every run's CPU."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    ours, _, _ = timed([sys.executable, "-m", "llm_tco.bench.cli", "bench", "--help"], env)
    theirs, _, _ = timed([str(guidellm), "run", "--help"])
    return {"llm-tco": ours, "guidellm": theirs}


def write_prompts(path: Path, args: argparse.Namespace) -> None:
    """The same prompts the harness makes (same generator, same seed), for GuideLLM to send."""
    prompts = synthetic_prompts(
        args.requests,
        LengthSpec(low=args.input_len, high=args.input_len),
        LengthSpec(low=args.output_len, high=args.output_len),
        seed=0,
    )
    with path.open("w") as handle:
        for p in prompts:
            row = {
                "prompt": p.text,
                "prompt_tokens_count": p.input_tokens_estimate,
                "output_tokens_count": p.max_tokens,
            }
            handle.write(json.dumps(row) + "\n")


def _verdict(ok: bool) -> str:
    return "holds" if ok else "FAILS"


def report(
    runs: list[Run], startup: dict[str, float], args: argparse.Namespace, versions: dict[str, str]
) -> str:
    def med(tool: str, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in runs if r.tool == tool)

    ours_tps = med("llm-tco", "output_tokens_per_second")
    their_tps = med("guidellm", "output_tokens_per_second")
    ours_cpu, their_cpu = (
        med("llm-tco", "cpu_ms_per_request"),
        med("guidellm", "cpu_ms_per_request"),
    )
    gap = (ours_tps - their_tps) / their_tps
    # Same-round pairs ran minutes apart at most: their ratio cancels slow drifts in machine load.
    pair_gaps = [
        (ours.output_tokens_per_second - theirs.output_tokens_per_second)
        / theirs.output_tokens_per_second
        for ours, theirs in zip(runs[::2], runs[1::2], strict=True)
    ]
    net_ours = (med("llm-tco", "cpu_s") - startup["llm-tco"]) / args.requests * 1000
    net_theirs = (med("guidellm", "cpu_s") - startup["guidellm"]) / args.requests * 1000
    command = (
        f"python benchmarks/bench_vs_guidellm.py --requests {args.requests} "
        f"--concurrency {args.concurrency} --rounds {args.rounds}"
    )
    lines = [
        "# Harness vs GuideLLM on the same llama.cpp server",
        "",
        f"Measured {dt.date.today().isoformat()} with `{command}`.",
        "",
        f"Server: llama-cpp-python {versions['llama_cpp']} (1 thread, "
        "`--interrupt_requests False`) serving the tiny random-weight llama model of "
        f"`tests/integration/tiny_gguf.py`; {args.input_len} prompt + {args.output_len} output "
        f"tokens per request, concurrency {args.concurrency} (the server runs one request at a "
        f"time, so it is saturated). GuideLLM {versions['guidellm']} in its own virtual "
        f"environment. Machine: {os.cpu_count()} CPU cores shared with other work; the server "
        f"was pinned to core(s) {sorted(SERVER_CORES or [])} and the clients to "
        f"{sorted(CLIENT_CORES)}, as a client on another host would not slow the server. "
        f"Python {platform.python_version()}. The tools ran one after the other, alternating "
        "which went first.",
        "",
        "| round | tool | output tok/s | requests | CPU s | CPU ms / request | wall s |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for index, run in enumerate(runs):
        lines.append(
            f"| {index // 2 + 1} | {run.tool} | {run.output_tokens_per_second:,.1f} "
            f"| {run.requests} | {run.cpu_s:.2f} | {run.cpu_ms_per_request:.1f} "
            f"| {run.wall_s:.1f} |"
        )
    lines += [
        "",
        "Medians over the rounds:",
        "",
        f"- output tokens/s at saturation: llm-tco **{ours_tps:,.1f}**, GuideLLM "
        f"**{their_tps:,.1f}**: difference **{gap:+.1%}** (must be within ±10%: "
        f"{_verdict(abs(gap) <= 0.10)}).",
        f"- the same, round by round: {', '.join(f'{g:+.1%}' for g in pair_gaps)}; median "
        f"**{statistics.median(pair_gaps):+.1%}**.",
        f"- CPU per request (whole process, start-up included): llm-tco **{ours_cpu:.1f} ms**, "
        f"GuideLLM **{their_cpu:.1f} ms** (must be no more: {_verdict(ours_cpu <= their_cpu)}).",
        f"- start-up CPU (`--help`): llm-tco {startup['llm-tco']:.2f} s, GuideLLM "
        f"{startup['guidellm']:.2f} s; CPU per request without it: llm-tco {net_ours:.1f} ms, "
        f"GuideLLM {net_theirs:.1f} ms.",
        "",
        "GuideLLM's throughput is its own reported `output_tokens_per_second` (total output "
        "tokens over the benchmark's duration); ours is the same quantity (output tokens of "
        "successful requests from the first sent to the last finished). llama-cpp-python sends "
        "no usage block in a stream, so both count tokens from the stream (one chunk per token "
        "with this model). The machine's cores are shared with other jobs, so single runs vary "
        "by up to ~20%; the medians are the figures to compare.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--input-len", type=int, default=64)
    parser.add_argument("--output-len", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "bench_results.md")
    args = parser.parse_args()

    guidellm = ensure_guidellm(VENV)
    import llama_cpp

    version = subprocess.run(
        [str(guidellm), "--version"], capture_output=True, text=True, timeout=120
    )
    versions = {"llama_cpp": llama_cpp.__version__, "guidellm": version.stdout.strip().split()[-1]}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = write_tiny_llama(work / "tiny.gguf")
        write_prompts(work / "prompts.jsonl", args)
        with llama_server(model, threads=1, cpus=SERVER_CORES) as url:
            warm = argparse.Namespace(**{**vars(args), "requests": 8})
            run_harness(url, warm, work / "warm.json")  # warm the server; not counted
            runs: list[Run] = []
            for round_ in range(args.rounds):
                order = ["llm-tco", "guidellm"] if round_ % 2 == 0 else ["guidellm", "llm-tco"]
                pair = {}
                for tool in order:
                    out = work / f"{tool}-{round_}.json"
                    pair[tool] = (
                        run_harness(url, args, out)
                        if tool == "llm-tco"
                        else run_guidellm(guidellm, url, args, work / "prompts.jsonl", out)
                    )
                    print(f"round {round_ + 1} {tool}: {pair[tool]}", flush=True)
                runs += [pair["llm-tco"], pair["guidellm"]]
        startup = startup_cpu(guidellm)
    text = report(runs, startup, args, versions)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
