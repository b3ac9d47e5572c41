"""Time the deployment search over the whole catalog for a 70B dense and a large MoE model.

For each model: every catalog GPU x precision x GPUs per replica x engine x current offer, sized
to the workload's peak and SLO (``llm_tco.plan.search.search``, hosted APIs off), timed
``--repeats`` times after one warm-up run (imports, efficiency factors). The hosted-API listing
is timed apart: cold (genai-prices snapshot loaded and matched) and warm (the day's memo).
Wall time and CPU time are both recorded: the machine is shared, so wall time includes waiting.

    PYTHONPATH=src python benchmarks/plan_bench.py [--repeats 5]

writes ``benchmarks/plan_results.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from llm_tco.catalog import load_catalog  # noqa: E402
from llm_tco.plan import hosted  # noqa: E402
from llm_tco.plan import space as plan_space  # noqa: E402
from llm_tco.plan.build import Limits, space_for  # noqa: E402
from llm_tco.plan.search import search  # noqa: E402
from llm_tco.scenario import scenario_from_data  # noqa: E402

MODELS = {"70B dense": "llama-3.3-70b", "large MoE": "deepseek-v3"}
TARGET_S = 1.0
WORKLOAD = {
    "requests_per_month": 20_000_000,
    "input_tokens_per_request": 2000,
    "output_tokens_per_request": 400,
    "peak_to_mean": 3,
}


def scenario(model: str):  # type: ignore[no-untyped-def]
    return scenario_from_data(
        {
            "name": f"plan benchmark {model}",
            "workload": WORKLOAD,
            "options": [
                {
                    "name": "own",
                    "self_hosted": {
                        "model": model,
                        "gpu": "auto",
                        "precision": "auto",
                        "offer": "cheapest",
                        "ops_monthly": 0,
                    },
                }
            ],
        }
    )


def cold_match(arch, catalog):  # type: ignore[no-untyped-def]
    """genai-prices snapshot loaded and every quote matched to ``arch`` (no memo)."""
    keys = hosted.arch_keys(arch)
    return [q for q in hosted._genai_quotes(catalog) if hosted.model_key(q.model) in keys]


def timed(call):  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    catalog = load_catalog()
    rows = []
    for label, model in MODELS.items():
        sc = scenario(model)
        search(space_for(sc, catalog, limits=Limits()), catalog, hosted=False)  # warm-up
        walls, cpus, memo_walls = [], [], []
        for _ in range(args.repeats):
            plan_space._MEMO.clear()  # every layout sized again by the capacity model
            plan, wall, cpu = timed(
                lambda sc=sc: search(space_for(sc, catalog, limits=Limits()), catalog, hosted=False)
            )
            walls.append(wall)
            cpus.append(cpu)
            _, memo_wall, _ = timed(  # the same search again: capacity answers memoised
                lambda sc=sc: search(space_for(sc, catalog, limits=Limits()), catalog, hosted=False)
            )
            memo_walls.append(memo_wall)
        arch = catalog.model(model)
        hosted._QUOTES.clear()
        _, cold, _ = timed(lambda a=arch: cold_match(a, catalog))
        _, warm, _ = timed(lambda a=arch: hosted.hosted_quotes(a, catalog))
        best = plan.cheapest
        rows.append(
            (
                label,
                model,
                plan.searched,
                plan.feasible,
                statistics.median(walls),
                min(walls),
                statistics.median(cpus),
                statistics.median(memo_walls),
                cold,
                warm,
                "none"
                if best is None
                else f"{best.replicas} x ({best.gpus_per_replica} x "
                f"{best.gpu}) {best.precision} {best.engine} {best.offer}, "
                f"${best.monthly_cost:,.0f}/month",
            )
        )
        print(rows[-1])
    write(rows, catalog, args.repeats)


def write(rows, catalog, repeats: int) -> None:  # type: ignore[no-untyped-def]
    w = WORKLOAD
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "# Deployment search speed",
        "",
        f"Run {dt.date.today()} with `PYTHONPATH=src python benchmarks/plan_bench.py "
        f"--repeats {repeats}` on {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; load average "
        f"{load:.1f} at the end (a shared machine: wall time includes waiting for a core).",
        "",
        f"Catalog: {len(catalog.gpus)} GPUs, {len(catalog.offers)} offer rows; workload "
        f"{w['requests_per_month']:,} requests/month of {w['input_tokens_per_request']} + "
        f"{w['output_tokens_per_request']} tokens, peak {w['peak_to_mean']}x mean, SLO TTFT "
        f"2 s / TPOT 50 ms. Target: a full search under {TARGET_S:g} s.",
        "",
        "| model | id | candidates | feasible | wall median s | wall best s | CPU median s "
        "| memoised wall s | hosted cold s | hosted warm s | cheapest |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.3f} | {r[5]:.3f} | {r[6]:.3f} "
            f"| {r[7]:.3f} | {r[8]:.3f} | {r[9]:.4f} | {r[10]} |"
        )
    lines += [
        "",
        "candidates: deployment x offer pairs priced plus layouts dropped before pricing (does "
        "not fit, misses the SLO, no engine, no offer). The search calls the capacity model "
        "once per layout (GPU x precision x GPUs per replica x engine) and once more per "
        "feasible layout for its latency at the load; offers are priced as arrays.",
        "wall / CPU: the capacity memo cleared first, so every layout is sized by the capacity "
        "model; memoised: the same search again, as a page edit or a second evaluate runs it.",
        "hosted cold: genai-prices snapshot read and every quote matched to the model; warm: "
        "the day's on-disk memo, as every later run reads it.",
        "",
    ]
    (ROOT / "benchmarks" / "plan_results.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
