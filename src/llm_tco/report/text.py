"""Render a Result as rich tables (terminal), Markdown or CSV. Nothing here computes costs."""

from __future__ import annotations

import csv
import io

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from llm_tco.core.units import format_tokens, format_usd
from llm_tco.result import Result


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _money(value: float | None) -> str:
    return "-" if value is None else format_usd(value)


def options_table(result: Result) -> Table:
    table = Table(title=f"{result.name}: monthly cost per option", title_justify="left")
    for column in ("option", "kind", "monthly cost", "$/MTok", "GPUs", "util. mean", "vs cheapest"):
        table.add_column(column, justify="left" if column in ("option", "kind") else "right")
    best = result.option(result.cheapest).monthly_cost
    for option in sorted(result.options, key=lambda o: o.monthly_cost):
        ratio = option.monthly_cost / best if best > 0 else float("inf")
        deployment = option.deployment
        versus = "cheapest" if option.name == result.cheapest else f"{ratio:.1f}x"
        if not option.feasible:
            versus = "cannot serve"
        table.add_row(
            Text(option.name),
            option.label,
            format_usd(option.monthly_cost),
            _money(option.cost_per_mtok),
            "-" if option.gpus is None else str(option.gpus),
            _pct(deployment.utilisation_at_mean if deployment else None),
            versus,
        )
    return table


def breakdown_table(result: Result) -> Table:
    table = Table(title="line items (USD/month)", title_justify="left")
    table.add_column("option")
    table.add_column("item")
    table.add_column("USD/month", justify="right")
    table.add_column("how")
    for option in result.options:
        for i, line in enumerate(option.line_items):
            table.add_row(
                Text(option.name if i == 0 else ""),
                line.name,
                format_usd(line.monthly_usd),
                Text(line.formula),
            )
    return table


def breakeven_table(result: Result) -> Table:
    table = Table(title="break-even", title_justify="left")
    for column in ("option", "versus", "tokens/month", "requests/month", "note"):
        table.add_column(column, justify="right" if "/" in column else "left")
    for row in result.breakeven:
        table.add_row(
            Text(row.option),
            Text(row.versus),
            "never" if row.tokens_per_month is None else format_tokens(row.tokens_per_month),
            "-" if row.requests_per_month is None else format_tokens(row.requests_per_month),
            Text(row.note),
        )
    return table


def sweep_table(result: Result) -> Table:
    table = Table(title="sweep over monthly volume (same split and shape)", title_justify="left")
    table.add_column("tokens/month", justify="right")
    names = [o.name for o in result.options]
    for name in names:
        table.add_column(Text(name), justify="right")
    table.add_column("verdict")
    for row in result.sweep:
        marks = [format_usd(row.costs[n]) + (" !" if n in row.over_capacity else "") for n in names]
        table.add_row(format_tokens(row.tokens_per_month), *marks, Text(row.verdict))
    if any(row.over_capacity for row in result.sweep):
        table.caption = "! beyond the deployment's capacity"
    return table


def render_table(result: Result, console: Console, *, sweep_only: bool = False) -> None:
    w = result.workload
    if not sweep_only:
        console.print(
            f"[bold]{Text(result.name)}[/bold]  workload: {format_tokens(w.input_tokens_per_month)}"
            f" input + {format_tokens(w.output_tokens_per_month)} output tokens/month"
            f" ({w.source}); peak/mean {w.peak_to_mean:g}"
        )
        console.print(Group(options_table(result), breakdown_table(result)))
        if result.breakeven:
            console.print(breakeven_table(result))
    if result.sweep:
        console.print(sweep_table(result))


def render_warnings(result: Result, console: Console) -> None:
    for warning in result.warnings:
        prefix = f"[{warning.option}] " if warning.option else ""
        console.print(Text(f"warning: {prefix}{warning.message}", style="yellow"))


def _md(text: str) -> str:
    # Backslashes first, so "\\|" cannot unescape the "|" and split the cell.
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def render_markdown(result: Result) -> str:
    lines = [f"# {_md(result.name)}", ""]
    w = result.workload
    lines += [
        f"Workload: {format_tokens(w.input_tokens_per_month)} input + "
        f"{format_tokens(w.output_tokens_per_month)} output tokens/month ({_md(w.source)}), "
        f"peak-to-mean {w.peak_to_mean:g}.",
        "",
        "| option | kind | monthly cost | $/MTok | GPUs |",
        "|---|---|---:|---:|---:|",
    ]
    for o in sorted(result.options, key=lambda o: o.monthly_cost):
        gpus = "-" if o.gpus is None else str(o.gpus)
        lines.append(
            f"| {_md(o.name)} | {o.label} | {format_usd(o.monthly_cost)} | "
            f"{_money(o.cost_per_mtok)} | {gpus} |"
        )
    lines += ["", "## Line items", "", "| option | item | USD/month | how |", "|---|---|---:|---|"]
    for o in result.options:
        for line in o.line_items:
            lines.append(
                f"| {_md(o.name)} | {line.name} | {format_usd(line.monthly_usd)} | "
                f"{_md(line.formula)} |"
            )
    if result.breakeven:
        lines += [
            "",
            "## Break-even",
            "",
            "| option | versus | tokens/month | note |",
            "|---|---|---:|---|",
        ]
        for b in result.breakeven:
            volume = "never" if b.tokens_per_month is None else format_tokens(b.tokens_per_month)
            lines.append(f"| {_md(b.option)} | {_md(b.versus)} | {volume} | {_md(b.note)} |")
    if result.sweep:
        names = [o.name for o in result.options]
        lines += [
            "",
            "## Sweep",
            "",
            "| tokens/month | " + " | ".join(map(_md, names)) + " | verdict |",
            "|---:|" + "---:|" * len(names) + "---|",
        ]
        for row in result.sweep:
            cells = " | ".join(format_usd(row.costs[n]) for n in names)
            lines.append(
                f"| {format_tokens(row.tokens_per_month)} | {cells} | {_md(row.verdict)} |"
            )
    if result.warnings:
        lines += ["", "## Warnings", ""]
        lines += [
            f"- {_md((w.option + ': ') if w.option else '')}{_md(w.message)}"
            for w in result.warnings
        ]
    if result.assumptions:
        lines += ["", "## Assumptions and sources", ""]
        for a in result.assumptions:
            when = f" (as of {a.as_of})" if a.as_of else ""
            lines.append(f"- {_md(a.name)}: {_md(a.value)} - {_md(a.source)}{when}")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """A text cell a spreadsheet will not run: one starting with = + - @ (a formula) or a
    tab / carriage return gets a leading apostrophe (OWASP, "CSV Injection")."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_csv(result: Result) -> str:
    """One row per option and line item, then the sweep; plain numbers, USD; text cells that
    a spreadsheet would read as a formula are quoted with a leading apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "option", "item", "tokens_per_month", "monthly_usd"])
    volume = result.workload.total_tokens_per_month
    for o in result.options:
        name = _cell(o.name)
        writer.writerow(["option", name, "total", volume, f"{o.monthly_cost:.6f}"])
        for line in o.line_items:
            item = _cell(line.name)
            writer.writerow(["line_item", name, item, volume, f"{line.monthly_usd:.6f}"])
    for b in result.breakeven:
        pair = (_cell(b.option), _cell(b.versus))
        writer.writerow(["breakeven", *pair, b.tokens_per_month or "", ""])
    for row in result.sweep:
        for option, cost in row.costs.items():
            cells = (_cell(option), _cell(row.cheapest))
            writer.writerow(["sweep", *cells, row.tokens_per_month, f"{cost:.6f}"])
    return out.getvalue()
