"""``llm-tco ingest`` and ``llm-tco demo-logs``: added to the main app by ``register(app)``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from llm_tco.errors import LlmTcoError, LogFormatError, print_error
from llm_tco.ingest.api import ingest
from llm_tco.ingest.demo import DemoSpec, write_demo_log
from llm_tco.ingest.model import IngestSummary
from llm_tco.ingest.readers import FORMATS, parse_mapping
from llm_tco.ingest.render import render
from llm_tco.ingest.summary import scenario_workload

LARGE_INPUT_BYTES = 64 * 1024 * 1024  # show a progress bar above this much input
OUTPUT_FORMATS = ("table", "json", "markdown", "csv")


def register(app: typer.Typer) -> None:
    """Add the ``ingest`` and ``demo-logs`` commands to ``app``."""
    app.command("ingest")(ingest_command)
    app.command("demo-logs")(demo_logs_command)


def _fail(message: str, code: int = 2) -> typer.Exit:
    print_error(message)
    return typer.Exit(code)


def ingest_command(
    paths: Annotated[list[Path] | None, typer.Argument(help="Log files to read.")] = None,
    format: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            "-f",
            help="Output: table|json|markdown|csv, and/or the log format: "
            + "|".join(FORMATS)
            + " (give --format twice for both).",
        ),
    ] = None,
    log_format: Annotated[
        str | None, typer.Option("--log-format", help="The log format (same as --format NAME).")
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Group by model, workload-tag or key.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write workload sections (one per group) here.")
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option("--map", help="Column mapping, e.g. ts=created,input_tokens=tok_in."),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail (exit 2) on any rejected row.")
    ] = False,
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend",
            envvar="LLM_TCO_BACKEND",
            show_envvar=True,
            show_default=False,
            help="Ibis connection URL of a warehouse, e.g. postgresql://user@host/db or "
            "pyspark:// (a password may also come from the backend's own environment, "
            "e.g. PGPASSWORD; it is never printed).",
        ),
    ] = None,
    table: Annotated[
        str | None,
        typer.Option("--table", help="Table (or Parquet file) to read with --backend."),
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset",
            help="A known log table: litellm (LiteLLM_SpendLogs), langfuse (ClickHouse "
            "observations), otel-clickhouse (otel_traces).",
        ),
    ] = None,
    wide: Annotated[
        bool,
        typer.Option(
            "--wide", help="every column in full, one row per line (the default when piped)"
        ),
    ] = False,
) -> None:
    """Derive the workload (volumes, load shape, cache and batch shares, cost) from request logs."""
    try:
        output, input_format = _split_formats(format or [], log_format)
        summary = ingest(
            paths or [],
            format=input_format,
            by=by,
            mapping=parse_mapping(mapping),
            backend=backend,
            table=table,
            preset=preset,
            progress=_progress_for(paths or []) if output == "table" else None,
        )
        rejected = sum(summary.rows_rejected.values())
        if strict and rejected:
            reasons = ", ".join(f"{k}: {v}" for k, v in summary.rows_rejected.items())
            raise _fail(f"{rejected} rows rejected ({reasons}); --strict allows none")
        if out is not None:
            _write_workloads(out, summary)
    except LlmTcoError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{exc.filename or ''}: {exc.strerror}") from None
    render(summary, output, Console(), wide)


def _split_formats(values: list[str], log_format: str | None) -> tuple[str, str]:
    output, input_format = "table", log_format or "auto"
    for value in values:
        if value in OUTPUT_FORMATS:
            output = value
        elif value in FORMATS:
            input_format = value
        else:
            raise LogFormatError(
                f"unknown format '{value}'",
                field="--format",
                hint=f"output {', '.join(OUTPUT_FORMATS)}; logs {', '.join(FORMATS)}",
            )
    return output, input_format


def _progress_for(paths: list[Path]):  # type: ignore[no-untyped-def]
    """A callback drawing a Rich progress bar, or None for small inputs."""
    try:
        size = sum(p.stat().st_size for p in paths)
    except OSError:
        return None
    if size < LARGE_INPUT_BYTES:
        return None
    progress = Progress(
        TextColumn("reading logs"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = progress.add_task("read", total=100)
    progress.start()

    def update(percent: float) -> None:
        progress.update(task, completed=percent)
        if percent >= 100:
            progress.stop()

    return update


def _write_workloads(path: Path, summary: IngestSummary) -> None:
    """A scenario that `llm-tco evaluate` runs as is: the logged workload (the busiest group
    with ``--by``) and one API option per logged model the catalog prices. Its ``workload:``
    is also what ``workload: {from_file: PATH}`` reads into another scenario."""
    if not summary.groups:
        raise LlmTcoError("no rows were used, so there is no workload to write", field="--out")
    name, group = max(
        summary.groups.items(), key=lambda item: item[1].input_tokens + item[1].output_tokens
    )
    priced = [m.model for m in group.models if m.price_source is not None]
    header = [
        f"# Workload derived from request logs ({summary.first_day} .. {summary.last_day}, "
        f"{summary.days} days, {summary.rows_used} rows used; volumes: {group.monthly_basis}).",
        "# Run it: llm-tco evaluate THIS_FILE. Add self-hosted options to compare; or use the",
        "# workload in another scenario with  workload: {from_file: THIS_FILE}",
    ]
    if len(summary.groups) > 1:
        others = ", ".join(g for g in summary.groups if g != name)
        header.append(
            f"# Group '{name}' (the busiest); the others ({others}): workload: "
            "{from_logs: LOG, logs_group: NAME}"
        )
    if group.weekly_profile is not None:
        header.append(
            "# workload.weekly_profile: each hour of the week (Monday 00:00 UTC first) over the "
            "mean hour; `llm-tco size-trace` sizes a typical week from it"
        )
    else:
        header.append(
            "# No workload.weekly_profile: the logs span under a week (or are bucketed wider "
            "than an hour)"
        )
    document: dict[str, object] = {
        "name": f"Workload from request logs ({summary.first_day} .. {summary.last_day})",
        "workload": scenario_workload(group),
    }
    if priced:
        document["options"] = [{"name": m, "api": {"model": m}} for m in priced]
    else:
        header.append(
            "# No logged model has a catalog price: add options before evaluating this file."
        )
    text = "\n".join(header) + "\n" + yaml.safe_dump(document, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    if not priced:
        Console(stderr=True).print(
            f"note: {path} holds the workload only (no logged model has a catalog price); "
            "add options before `llm-tco evaluate`",
            markup=False,
        )


def demo_logs_command(
    out: Annotated[Path, typer.Argument(help="File to write (.csv, .jsonl or .parquet).")],
    rows: Annotated[int, typer.Option("--rows", min=1, help="Requests to generate.")] = 100_000,
    days: Annotated[int, typer.Option("--days", min=1, help="Days of traffic.")] = 59,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 7,
    bad_share: Annotated[
        float, typer.Option("--bad-share", min=0.0, max=0.5, help="Share of malformed rows.")
    ] = 0.001,
) -> None:
    """Write a realistic synthetic request log (daily cycle, bursts, several models, bad rows)."""
    spec = DemoSpec(rows=rows, days=days, seed=seed, bad_share=bad_share)
    try:
        written = write_demo_log(out, spec)
    except OSError as exc:
        raise _fail(f"{out}: {exc.strerror}") from None
    except Exception as exc:  # duckdb errors on a bad path, reported as one line
        raise _fail(f"cannot write {out}: {str(exc).splitlines()[0]}") from None
    typer.echo(f"wrote {written:,} rows to {out}")
