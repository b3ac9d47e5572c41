"""Ingest speed and memory: 10 million log rows as CSV (~0.9 GB) and Parquet.

Times the DuckDB engine (``llm_tco.ingest.ingest``) and a plain pandas implementation of the
same summary on the same files, each in its own process so peak memory (max RSS) is its own.
Targets: CSV under 60 s, peak memory under 2 GB, Parquet at least 3x faster than CSV.

    python benchmarks/ingest_bench.py [--rows 10000000] [--dir /tmp/ingest-bench] [--keep]

Writes benchmarks/ingest_results.md and deletes the generated files unless --keep. Needs pandas
and pyarrow for the comparison (not dependencies of llm-tco itself).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from llm_tco.ingest.demo import DemoSpec, write_demo_log  # noqa: E402
from llm_tco.ingest.model import CubeRow, RejectCount, Scan  # noqa: E402
from llm_tco.ingest.summary import summarise  # noqa: E402

RESULTS = ROOT / "benchmarks" / "ingest_results.md"


def pandas_scan(path: Path) -> Scan:
    """The same validation and hourly cube as the DuckDB engine, in plain pandas."""
    import numpy as np
    import pandas as pd

    if path.suffix == ".parquet":
        df = pd.read_parquet(path)
        lines = len(df)
    else:
        with path.open("rb") as handle:
            lines = sum(1 for _ in handle) - 1  # data lines after the header
        df = pd.read_csv(
            path, dtype=str, on_bad_lines="skip", keep_default_na=False, na_values=[""]
        )
    malformed = lines - len(df)
    in_n = pd.to_numeric(df["input_tokens"], errors="coerce")
    out_n = pd.to_numeric(df["output_tokens"], errors="coerce")
    cached = pd.to_numeric(df["cached_input_tokens"], errors="coerce")
    ts = pd.to_datetime(df["timestamp"], errors="coerce", utc=True, format="ISO8601")
    batch = df["batch"].astype(str).str.lower().isin(["true", "1"])
    reason = pd.Series(
        np.select(
            [
                df["input_tokens"].isna() | df["output_tokens"].isna(),
                in_n.isna() | out_n.isna(),
                (in_n < 0) | (out_n < 0) | (cached < 0),
                cached > in_n,
                df["timestamp"].isna(),
                ts.isna(),
            ],
            [
                "missing_tokens",
                "non_numeric_tokens",
                "negative_tokens",
                "cached_exceeds_input",
                "missing_timestamp",
                "bad_timestamp",
            ],
            default="",
        ),
        index=df.index,
    )
    valid = reason == ""
    # Duplicated ids among valid rows: keep the earliest (then smallest) copy, as the engine does.
    dup_candidates = valid & df["request_id"].duplicated(keep=False)
    order = pd.DataFrame({"rid": df["request_id"], "ts": ts, "in": in_n, "out": out_n})[
        dup_candidates
    ].sort_values(["rid", "ts", "in", "out"])
    extra = order.index[order["rid"].duplicated(keep="first")]
    reason.loc[extra] = "duplicate_request_id"
    valid = reason == ""
    cube_df = (
        pd.DataFrame(
            {
                "model": df["model"][valid],
                "hour": ts[valid].astype("int64") // 3_600_000_000_000,
                "batch": batch[valid],
                "input": in_n[valid],
                "output": out_n[valid],
                "cached": cached[valid].fillna(0),
            }
        )
        .groupby(["model", "hour", "batch"], as_index=False)
        .agg(
            rows=("input", "size"),
            input=("input", "sum"),
            output=("output", "sum"),
            cached=("cached", "sum"),
        )
    )
    cube = [
        CubeRow(
            group="all",
            model=r.model,
            hour=int(r.hour),
            batch=bool(r.batch),
            rows=int(r.rows),
            requests=float(r.rows),
            requests_known=True,
            input_tokens=float(r.input),
            output_tokens=float(r.output),
            cached_input_tokens=float(r.cached),
            billed_usd=None,
            billed_rows=0,
            bucket_seconds=0.0,
        )
        for r in cube_df.itertuples()
    ]
    counts = reason[~valid].value_counts()
    rejected = [RejectCount(reason=k, rows=int(v)) for k, v in counts.items()]
    if malformed:
        rejected.append(RejectCount(reason="malformed_line", rows=malformed))
    return Scan(cube=cube, rejected=rejected, skipped=[], formats=["pandas"])


def child(engine: str, path: Path) -> None:
    """Run one summary and print its wall time, CPU time, peak RSS and key figures as JSON."""
    import pandas  # noqa: F401  (imports are not what is being timed)

    from llm_tco.ingest import ingest

    start = time.perf_counter()
    summary = ingest([path], price=None) if engine == "duckdb" else summarise(pandas_scan(path))
    wall_s = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # ru_maxrss survives fork + exec on Linux (it would report the parent's peak, which made
    # the demo files); VmHWM is this process's own high-water mark.
    status = Path("/proc/self/status").read_text(encoding="utf-8")
    peak_kib = next(
        int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")
    )
    group = summary.groups["all"]
    print(
        json.dumps(
            {
                "wall_s": wall_s,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "peak_rss_mb": peak_kib / 1024,
                "rows_read": summary.rows_read,
                "rows_rejected": summary.rows_rejected,
                "input_tokens": group.input_tokens,
                "output_tokens": group.output_tokens,
                "peak_to_mean": group.peak_to_mean,
            }
        )
    )


def measure(engine: str, path: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", engine, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "ingest-bench")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    spec = DemoSpec(rows=args.rows)
    files = {kind: args.dir / f"demo-{args.rows}.{kind}" for kind in ("csv", "parquet")}
    try:
        for path in files.values():
            if not path.exists():
                write_demo_log(path, spec)
        load_before = os.getloadavg()
        results = {
            (engine, kind): measure(engine, path)
            for kind, path in files.items()
            for engine in ("duckdb", "pandas")
        }
        load_after = os.getloadavg()
        report = render(results, files, load_before, load_after, args.rows)
        RESULTS.write_text(report, encoding="utf-8")
        print(report)
    finally:
        if not args.keep:
            for path in files.values():
                path.unlink(missing_ok=True)


def render(
    results: dict[tuple[str, str], dict[str, object]],
    files: dict[str, Path],
    load_before: tuple[float, ...],
    load_after: tuple[float, ...],
    rows: int,
) -> str:
    lines = [
        "# Ingest benchmark",
        "",
        f"{rows:,} demo-log rows (`llm-tco demo-logs` data: 5 models, daily cycle, bursts, "
        "0.1% malformed rows). Command: `python benchmarks/ingest_bench.py`.",
        "",
        f"- CSV: {files['csv'].stat().st_size / 1e9:.2f} GB; Parquet (zstd): "
        f"{files['parquet'].stat().st_size / 1e9:.3f} GB",
        f"- Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; **shared with other jobs while measured** (load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after), so wall times are upper "
        "bounds; CPU time is the steadier figure.",
        "",
        "| engine | file | wall s | CPU s | peak memory MB | rows read | input tokens |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for (engine, kind), r in results.items():
        lines.append(
            f"| {engine} | {kind} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
            f"{r['peak_rss_mb']:.0f} | {r['rows_read']:,} | {r['input_tokens']:,.0f} |"
        )
    csv, parquet = results[("duckdb", "csv")], results[("duckdb", "parquet")]
    csv_s, parquet_s = float(csv["wall_s"]), float(parquet["wall_s"])  # type: ignore[arg-type]
    peak_mb = max(float(csv["peak_rss_mb"]), float(parquet["peak_rss_mb"]))  # type: ignore[arg-type]
    speedup = csv_s / parquet_s
    same = all(
        results[(e, k)]["input_tokens"] == results[("duckdb", k)]["input_tokens"]
        for e, k in results
    )
    lines += [
        "",
        f"- DuckDB CSV under 60 s: **{'yes' if csv_s < 60 else 'NO'}** ({csv_s:.1f} s)",
        f"- DuckDB peak memory under 2 GB: **{'yes' if peak_mb < 2048 else 'NO'}** "
        f"({peak_mb:.0f} MB)",
        f"- Parquet vs CSV (DuckDB): **{speedup:.1f}x** faster (target 3x)",
        f"- pandas and DuckDB agree on the token sums: **{'yes' if same else 'NO'}**",
        "",
        "Rejected rows (DuckDB, CSV): " + json.dumps(csv["rows_rejected"]),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
