"""Validate the batching simulator on a real llama.cpp server (the tiny model of the tests).

Calibrates step times from closed-loop runs at concurrency 1 (and, beside each, the service of
queued and of idle-server arrivals), then predicts p50/p99 TTFT and mean TPOT of Poisson loads
at 0.3, 0.45 and 0.6 of the calibrated saturation rate (each load five short runs between
calibrations, pooled) and sets them beside the harness's measurement (method and the
prediction the test asserts: tests/integration/batchsim_support.py).

Run: python benchmarks/batchsim_llamacpp.py [--keep DIR]  (8-11 minutes: five 25 s segments a
load, longer when some are measured again; needs llama-cpp-python[server]; other work's
stalls land in the measured p99). ``--keep DIR`` leaves every calibration and level result
(the harness's JSON, per-request timings included) in DIR, so other predictions can be set
beside the same runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests" / "integration")]

from batchsim_support import pin_cores, raise_priority, table, validate  # noqa: E402
from bench_support import llama_server  # noqa: E402
from tiny_gguf import write_tiny_llama  # noqa: E402

FRACTIONS = (0.3, 0.45, 0.6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", type=Path, help="copy the run's result files into this folder")
    args = parser.parse_args()
    server_cores, client_cores = pin_cores()
    raise_priority()
    if client_cores:
        os.sched_setaffinity(0, client_cores)
    with tempfile.TemporaryDirectory() as folder:
        model = write_tiny_llama(Path(folder) / "tiny.gguf")
        with llama_server(model, cpus=server_cores) as url:
            started = time.perf_counter()
            comparisons = validate(url, FRACTIONS, Path(folder))
            seconds = time.perf_counter() - started
        if args.keep is not None:
            shutil.copytree(folder, args.keep, dirs_exist_ok=True, ignore=_no_model)
    print(table(comparisons))
    print(f"\n{seconds:.0f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def _no_model(folder: str, names: list[str]) -> list[str]:
    return [name for name in names if name.endswith(".gguf")]


if __name__ == "__main__":
    main()
