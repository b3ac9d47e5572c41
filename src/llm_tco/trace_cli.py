"""``llm-tco size-trace``: GPUs minute by minute from the traffic, and the cheapest mix."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from llm_tco.cli import FileArg, FormatOpt, OutputFormat, WideOpt, cli_errors, console
from llm_tco.core.trace import MinuteLoad
from llm_tco.errors import LogFormatError
from llm_tco.report.terminal import Col, print_notes, print_table
from llm_tco.trace_sizing import TraceSizing, size_trace

HELP = (
    "GPUs needed minute by minute at the SLO, and the cheapest mix to provide them.\n\n"
    "Each minute of traffic (per-request logs with --logs, or one day of the scenario's "
    "workload.hourly_profile) is sized at the self-hosted option's capacity at its SLO, as "
    "`evaluate` sizes gpu_count: auto.\n\n"
    "Then each replica slot, bottom up, goes to the cheapest of: always-on (held all month; "
    "committed at scaling.reserved_discount), spot (scaling.spot_discount, up "
    "scaling.spot_availability of the time), on-demand (autoscaled; scaling.scale_up_minutes + "
    "cold_start_minutes from request to serving, billed) or API overflow (the scenario's "
    "cheapest API option, or --overflow NAME). Only GPU and overflow costs are compared: ops "
    "costs are the same for every mix.\n\n"
    "Example: `llm-tco size-trace my.yaml --logs requests.jsonl --chart day.svg`"
)


def register(app: typer.Typer) -> None:
    app.command("size-trace", help=HELP)(size_trace_command)


@cli_errors
def size_trace_command(
    scenario_file: FileArg,
    logs: Annotated[
        list[Path] | None,
        typer.Option(
            "--logs", help="per-request log file(s) to replay (as `llm-tco ingest` reads)"
        ),
    ] = None,
    log_format: Annotated[
        str, typer.Option("--log-format", help="log format (default: detected)")
    ] = "auto",
    option: Annotated[
        str | None, typer.Option("--option", help="self-hosted option to size (default: first)")
    ] = None,
    overflow: Annotated[
        str,
        typer.Option(
            "--overflow", help="API option peaks overflow to: auto (cheapest), none, or NAME"
        ),
    ] = "auto",
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="write the demand vs provisioned chart (.svg, .png, .json)"),
    ] = None,
    output: FormatOpt = OutputFormat.table,
    wide: WideOpt = False,
) -> None:
    from llm_tco.scenario import load_scenario

    scenario = load_scenario(scenario_file)
    load, source = (None, None)
    if logs:
        load, source = _load_from_logs(logs, log_format)
    result = size_trace(
        scenario,
        load,
        source=source,
        option=option,
        overflow=None if overflow == "none" else overflow,
    )
    if chart is not None:
        _write_chart(result, chart)
    if output is OutputFormat.json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    elif output is OutputFormat.markdown:
        sys.stdout.write(render_markdown(result))
    elif output is OutputFormat.csv:
        sys.stdout.write(render_csv(result))
    else:
        render_table(result, wide)


def _load_from_logs(paths: list[Path], log_format: str) -> tuple[MinuteLoad, str]:
    from llm_tco.ingest.engine import scan_files

    scan = scan_files(paths, format_name=log_format)
    series = scan.minutes.get("all")
    if series is None:
        raise LogFormatError(
            "no per-minute arrivals in these logs: they are usage buckets or have no valid rows",
            field="--logs",
            hint="give per-request logs, or drop --logs to use workload.hourly_profile",
        )
    load = MinuteLoad(
        np.asarray(series.requests, dtype=np.float64),
        np.asarray(series.input_tokens, dtype=np.float64),
        np.asarray(series.output_tokens, dtype=np.float64),
    )
    names = ", ".join(p.name for p in paths)
    return load, f"logs {names}: {len(series.requests):,} minutes replayed"


def _write_chart(result: TraceSizing, path: Path) -> None:
    import json

    from llm_tco.report.charts import to_png, to_svg, trace_chart

    spec = trace_chart(result)
    suffix = path.suffix.lower()
    if suffix == ".png":
        path.write_bytes(to_png(spec))
    elif suffix == ".svg":
        path.write_text(to_svg(spec), encoding="utf-8")
    elif suffix == ".json":
        path.write_text(json.dumps(spec), encoding="utf-8")
    else:
        raise LogFormatError(
            f"unknown chart type '{path.suffix}'", field="--chart", hint=".svg, .png or .json"
        )


def _usd(value: float | None) -> str:
    if value is None:
        return "-"
    if not np.isfinite(value):
        return "cannot serve"
    return f"${value:,.0f}"


def _rows(result: TraceSizing) -> list[list[str]]:
    return [
        [
            t.tier,
            str(t.replicas) if t.tier != "api-overflow" else "-",
            str(t.gpus) if t.tier != "api-overflow" else "-",
            f"{t.gpu_hours_per_month:,.0f}" if t.tier != "api-overflow" else "-",
            _usd(t.monthly_usd),
            t.how,
        ]
        for t in result.mix
    ]


COLS = [
    Col("tier", "id"),
    Col("replicas", "num"),
    Col("GPUs", "num"),
    Col("GPU-h/\nmonth", "num", drop=1),
    Col("USD/\nmonth", "num"),
    Col("how", "note"),
]


def _facts(result: TraceSizing) -> list[tuple[str, str]]:
    g = result.gpus_needed
    return [
        ("option", f"{result.option}: {result.gpus_per_replica} x {result.gpu} per replica"),
        (
            "capacity",
            f"{result.capacity_tokens_per_second_per_replica:,.0f} tokens/s per replica "
            f"({result.capacity_source})",
        ),
        ("traffic", result.source),
        ("sizing", result.sizing),
        (
            "GPUs needed",
            f"min {g.minimum}, mean {g.mean:.1f}, p95 {g.p95:g}, max {g.maximum}",
        ),
        ("cheapest mix", f"{_usd(result.monthly_usd)}/month (GPUs + API overflow)"),
        ("always-on at peak", f"{_usd(result.always_on_at_peak_monthly_usd)}/month"),
        ("all on the API", f"{_usd(result.all_api_monthly_usd)}/month"),
    ]


def render_table(result: TraceSizing, wide: bool) -> None:
    out = console()
    facts = _facts(result)
    print_table(
        out,
        "Sizing from the trace",
        [Col("", "id"), Col("", "text")],
        [list(f) for f in facts],
        wide=wide,
    )
    print_table(out, "Cheapest mix", COLS, _rows(result), wide=wide)
    if result.notes:
        out.print("notes:")
        print_notes(out, result.notes)


def render_markdown(result: TraceSizing) -> str:
    lines = ["# Sizing from the trace", ""]
    lines += [f"- **{name}**: {value}" for name, value in _facts(result)]
    lines += [
        "",
        "| tier | replicas | GPUs | GPU-h/month | USD/month | how |",
        "|---|---:|---:|---:|---:|---|",
    ]
    lines += [
        "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in _rows(result)
    ]
    if result.notes:
        lines += ["", *[f"- {note}" for note in result.notes]]
    return "\n".join(lines) + "\n"


def render_csv(result: TraceSizing) -> str:
    """One row a minute: GPUs needed and the GPUs each tier of the mix holds."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    tiers = list(result.gpus_provisioned_per_minute)
    writer.writerow(["minute", "gpus_needed", *(f"gpus_{t}" for t in tiers)])
    for minute, needed in enumerate(result.gpus_needed_per_minute):
        held = [f"{result.gpus_provisioned_per_minute[t][minute]:g}" for t in tiers]
        writer.writerow([minute, needed, *held])
    return buffer.getvalue()
