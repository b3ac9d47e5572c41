"""Warehouse ingest at scale: wall time, peak memory and bytes returned, DuckDB and Spark.

Two measurements, each step in its own process so that its peak memory is its own (the
sampled resident memory of the process and its children, the Spark JVM included):

* ``--rows 10000000 --csv``: 10M demo-log rows as CSV through the embedded DuckDB engine
  (target under 30 s), then the same rows as a DuckDB table read through the Ibis path (the
  bytes the backend returns, target under 1 MB), and on Spark from Parquet.
* ``--rows 100000000``: 100M rows as Parquet (ten 10M-row files: the demo log shifted by 59
  days per file, ids prefixed per file) through the Ibis path on DuckDB and on Spark local
  mode, with the Spark physical plan summarised (file partitions, shuffles).

    python benchmarks/warehouse_bench.py --rows 10000000 --csv
    python benchmarks/warehouse_bench.py --rows 100000000

Data goes to ``--dir`` (default: the temp folder) and is deleted afterwards; results are
appended to benchmarks/warehouse_results.md.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

RESULTS = ROOT / "benchmarks" / "warehouse_results.md"
CHUNK_ROWS = 10_000_000
DEMO_DAYS = 59


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack.extend(children.get(current, []))
    return total


def run_measured(args: list[str]) -> dict[str, Any]:
    """Run this script with ``args`` in a child process; its JSON result plus peak memory."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    peak = 0
    while child.poll() is None:
        peak = max(peak, _tree_rss(child.pid))
        time.sleep(0.2)
    out, err = child.communicate()
    if child.returncode != 0:
        raise SystemExit(f"step {args} failed:\n{err.decode(errors='replace')[-3000:]}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    result["process_wall_s"] = round(time.perf_counter() - started, 1)
    result["peak_memory_mb"] = round(peak / 2**20)
    return result


# ---- steps (each runs in its own process) --------------------------------------------------


def step_generate(folder: str, row_count: str, csv_flag: str) -> dict[str, Any]:
    import duckdb

    from llm_tco.ingest.demo import DemoSpec, write_demo_log

    directory, rows, csv = Path(folder), int(row_count), bool(csv_flag)
    base = directory / "base.parquet"
    write_demo_log(base, DemoSpec(rows=min(rows, CHUNK_ROWS), days=DEMO_DAYS))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    files = []
    for index in range(max(1, rows // CHUNK_ROWS)):
        path = directory / f"logs-{index:02d}.parquet"
        con.execute(
            f"COPY (SELECT * REPLACE ('c{index:02d}-' || request_id AS request_id, "
            f"timestamp + INTERVAL {index * DEMO_DAYS} DAY AS timestamp) "
            f"FROM read_parquet('{base}')) TO '{path}' (FORMAT parquet, COMPRESSION zstd)"
        )
        files.append(path)
    if csv:
        write_demo_log(directory / "logs.csv", DemoSpec(rows=rows, days=DEMO_DAYS))
    con.close()
    if csv:
        # The same rows as a table in a DuckDB database file, for the Ibis path.
        db = duckdb.connect(str(directory / "logs.duckdb"))
        db.execute(f"CREATE TABLE logs AS SELECT * FROM read_parquet('{directory}/logs-*.parquet')")
        db.close()
    base.unlink()
    size = sum(p.stat().st_size for p in directory.iterdir())
    return {"files": len(files), "bytes_on_disk": size}


def _summary_figures(summary: Any, seconds: float) -> dict[str, Any]:
    group = summary.groups.get("all")
    return {
        "wall_s": round(seconds, 1),
        "rows_read": summary.rows_read,
        "rows_used": summary.rows_used,
        "rows_rejected": summary.rows_rejected,
        "input_tokens": group.input_tokens if group else None,
        "backend": summary.backend.model_dump() if summary.backend else None,
    }


def step_csv(folder: str) -> dict[str, Any]:
    from llm_tco.ingest import ingest

    started = time.perf_counter()
    summary = ingest([Path(folder) / "logs.csv"], price=None)
    return _summary_figures(summary, time.perf_counter() - started)


def step_duckdb(url: str, table: str) -> dict[str, Any]:
    from llm_tco.ingest import ingest

    started = time.perf_counter()
    summary = ingest([], backend=url, table=table, price=None)
    return _summary_figures(summary, time.perf_counter() - started)


def step_spark(table: str) -> dict[str, Any]:
    from pyspark.sql import SparkSession

    from llm_tco.ingest import ingest
    from llm_tco.ingest.warehouse import connect, queries, spark_builder

    builder = spark_builder(SparkSession.builder).config("spark.driver.memory", "4g")
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    started = time.perf_counter()
    summary = ingest([], backend="pyspark://", table=table, price=None)
    figures = _summary_figures(summary, time.perf_counter() - started)
    figures["plans"] = _spark_plans(connect("pyspark://"), table, queries)
    figures["input_partitions"] = session.read.parquet(table).rdd.getNumPartitions()
    figures["shuffle_partitions"] = session.conf.get("spark.sql.shuffle.partitions")
    session.stop()
    return figures


def _spark_plans(con: Any, table: str, queries: Any) -> dict[str, Any]:
    """Per query: shuffles (Exchange nodes), aggregation steps and the plan's operators."""
    plans = {}
    for name, expr in queries(con, table).items():
        frame = con._session.sql(con.compile(expr))
        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            frame.explain(mode="simple")
        plan = text.getvalue()
        plans[name] = {
            "shuffles": len(re.findall(r"Exchange (?:hashpartitioning|SinglePartition)", plan)),
            "broadcasts": len(re.findall(r"BroadcastExchange", plan)),
            "hash_aggregates": len(re.findall(r"HashAggregate", plan)),
            "file_scans": len(re.findall(r"FileScan parquet", plan)),
            "operators": sorted(set(re.findall(r"^[\s+:\-*()0-9]*([A-Z][A-Za-z]+)", plan, re.M))),
        }
    return plans


# ---- driver ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--csv", action="store_true", help="also the CSV and DuckDB-table runs")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument(
        "--duckdb-memory",
        default="6GB",
        help="DuckDB memory_limit for the Ibis runs (it spills to disk beyond it; its own "
        "default is 80%% of RAM)",
    )
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--arg", action="append", default=[], help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.step:
        step = globals()[f"step_{options.step}"]
        print(json.dumps(step(*options.arg), default=str))
        return
    directory = Path(tempfile.mkdtemp(prefix="llm-tco-warehouse-", dir=options.dir))
    results: dict[str, Any] = {}
    load_before = os.getloadavg()[0]
    try:
        gen_args = ["--step", "generate", "--arg", str(directory), "--arg", str(options.rows)]
        results["generate"] = run_measured([*gen_args, "--arg", "1" if options.csv else ""])
        results["disk_free_gb"] = round(shutil.disk_usage(directory).free / 2**30, 1)
        glob = str(directory / "logs-*.parquet")
        limit = f"memory_limit={options.duckdb_memory}&temp_directory={directory / 'spill'}"
        if options.csv:
            results["csv"] = run_measured(["--step", "csv", "--arg", str(directory)])
            results["duckdb_table"] = run_measured(
                [
                    "--step",
                    "duckdb",
                    "--arg",
                    f"duckdb://{directory}/logs.duckdb?{limit}",
                    "--arg",
                    "logs",
                ]
            )
        results["duckdb_parquet"] = run_measured(
            ["--step", "duckdb", "--arg", f"duckdb://?{limit}", "--arg", glob]
        )
        if not options.no_spark:
            results["spark_parquet"] = run_measured(["--step", "spark", "--arg", glob])
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    results["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    write_results(options.rows, results)
    print(json.dumps(results, indent=2, default=str))


def write_results(rows: int, results: dict[str, Any]) -> None:
    lines = [
        f"\n## {rows:,} rows ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other jobs "
        f"(load average {results['load_average'][0]} before, {results['load_average'][1]} "
        f"after), Python {platform.python_version()}. Generated data on disk: "
        f"{results['generate']['bytes_on_disk'] / 2**30:.2f} GB (deleted afterwards).\n",
        "| run | wall s (ingest) | wall s (process) | peak memory MB | rows read | "
        "result rows | bytes returned |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ("csv", "duckdb_table", "duckdb_parquet", "spark_parquet"):
        if name not in results:
            continue
        r = results[name]
        backend = r.get("backend") or {}
        lines.append(
            f"| {name} | {r['wall_s']} | {r['process_wall_s']} | {r['peak_memory_mb']} | "
            f"{r['rows_read']:,} | {backend.get('rows_returned', '-')} | "
            f"{backend.get('bytes_returned', '-')} |"
        )
    if "spark_parquet" in results:
        spark = results["spark_parquet"]
        lines.append(
            f"\nSpark: {spark['input_partitions']} input partitions (file splits) and "
            f"{spark['shuffle_partitions']} shuffle partitions. Physical plans:\n"
        )
        lines.append("| query | shuffles | broadcasts | hash aggregates | file scans |")
        lines.append("|---|---:|---:|---:|---:|")
        for name, plan in spark["plans"].items():
            lines.append(
                f"| {name} | {plan['shuffles']} | {plan['broadcasts']} | "
                f"{plan['hash_aggregates']} | {plan['file_scans']} |"
            )
    first = next(iter(k for k in ("csv", "duckdb_parquet") if k in results))
    lines.append(f"\nRejected rows ({first}): {json.dumps(results[first]['rows_rejected'])}\n")
    if not RESULTS.exists():
        RESULTS.write_text("# Warehouse benchmark\n", encoding="utf-8")
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
