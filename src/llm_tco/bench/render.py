"""Terminal rendering of benchmark results: live progress, a level table, a comparison table."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from llm_tco.bench.metrics import Percentiles, RequestRecord
from llm_tco.bench.result import BenchResult, LevelResult


def _ms(p: Percentiles | None, key: str = "p50") -> str:
    value = getattr(p, key, None) if p is not None else None
    return "-" if value is None else f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _usd(value: float | None) -> str:
    return "-" if value is None else f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def _errors(level: LevelResult) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(level.errors.items())) or "-"


def level_table(result: BenchResult) -> Table:
    title = f"{result.model or '?'} at {result.endpoint or '?'} ({result.tool})"
    table = Table(title=title, title_justify="left")
    for name in (
        "load",
        "ok",
        "req/s",
        "out tok/s",
        "in tok/s",
        "TTFT p50/p90/p99 ms",
        "TPOT p50/p90/p99 ms",
        "errors",
    ):
        table.add_column(name, justify="right" if name != "errors" else "left")
    if result.slo is not None:
        table.add_column("SLO met", justify="right")
    if result.pricing is not None:
        table.add_column("$/MTok out", justify="right")
        table.add_column("$/MTok total", justify="right")
    for level in result.levels:
        cells = [
            level.label,
            str(level.requests_completed),
            f"{level.requests_per_second:.2f}",
            f"{level.output_tokens_per_second:,.1f}",
            f"{level.input_tokens_per_second:,.1f}",
            "/".join(_ms(level.ttft_ms, k) for k in ("p50", "p90", "p99")),
            "/".join(_ms(level.tpot_ms, k) for k in ("p50", "p90", "p99")),
            _errors(level),
        ]
        if result.slo is not None:
            att = level.slo_attainment
            cells.append("-" if att is None else f"{att:.0%}")
        if result.pricing is not None:
            cells += [_usd(level.usd_per_mtok_output), _usd(level.usd_per_mtok_total)]
        table.add_row(*cells)
    return table


def print_result(result: BenchResult, console: Console) -> None:
    console.print(level_table(result))
    if result.pricing is not None:
        p = result.pricing
        console.print(
            f"price: ${p.hourly_usd:,.2f}/h for {p.gpu_count} x {p.gpu or 'GPU'} "
            f"({f'offer {p.offer}' if p.offer else p.source}); "
            "$/MTok = hourly / (3600 x tokens/s) x 1e6"
        )
    if result.deployments_needed is not None and result.peak is not None:
        console.print(
            f"peak {result.peak.output_tokens_per_second:,.0f} output tok/s needs "
            f"{result.deployments_needed} such deployment(s)"
        )
    for note in result.notes:
        console.print(f"note: {note}")
    if result.interrupted:
        console.print("[yellow]interrupted: the result holds the levels measured so far[/]")


class LiveProgress:
    """A progress bar per level on stderr, with completed and failed counts."""

    def __init__(self, console: Console) -> None:
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("ok {task.fields[ok]} err {task.fields[err]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.task: TaskID | None = None

    def __enter__(self) -> LiveProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def start_level(self, label: str, total: int) -> None:
        self.task = self.bar.add_task(label, total=total, ok=0, err=0)

    def record(self, record: RequestRecord) -> None:
        if self.task is None:
            return
        fields = self.bar.tasks[self.task].fields
        key = "ok" if record.ok else "err"
        self.bar.update(self.task, advance=1, **{key: fields[key] + 1})

    def end_level(self, level: LevelResult) -> None:
        if self.task is not None:
            self.bar.update(
                self.task,
                description=f"{level.label}: {level.output_tokens_per_second:,.1f} out tok/s",
            )
