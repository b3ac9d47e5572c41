"""Render a Result as rich tables (terminal), Markdown or CSV. Nothing here computes costs."""

from __future__ import annotations

import csv
import io

from rich.console import Console
from rich.text import Text

from llm_tco.core.units import MAX_STATED_RATIO, format_ratio, format_tokens, format_usd
from llm_tco.report.terminal import Col, print_table
from llm_tco.result import Breakeven, OptionResult, Result, SweepRow


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _money(value: float | None) -> str:
    return "-" if value is None else format_usd(value)


def _versus(option: OptionResult, cheapest: str | None, best: float | None) -> str:
    """'cheapest', 'N.Nx' the cheapest that can serve, or 'cannot serve' (and what would)."""
    if not option.feasible:
        if option.to_serve is not None:
            return f"cannot serve; {format_usd(option.to_serve.monthly_cost)} with auto GPUs"
        return "cannot serve"
    if option.name == cheapest:
        return "cheapest"
    if best is None:
        return "-"
    if option.monthly_cost > max(best, 0.0) * MAX_STATED_RATIO:  # also: the cheapest is free
        return f"over {MAX_STATED_RATIO:,.0f}x"
    ratio = format_ratio(option.monthly_cost / best) if best > 0 else None
    return ratio or "same cost"


def _breakeven_volume(row: Breakeven) -> str:
    if not row.feasible and row.crossing_tokens_per_month is not None:
        return f"cannot serve ({format_tokens(row.crossing_tokens_per_month)} crossing)"
    return "never" if row.tokens_per_month is None else format_tokens(row.tokens_per_month)


def _sweep_cell(row: SweepRow, name: str) -> str:
    """The cost, marked ! where the option cannot serve that volume."""
    return format_usd(row.costs[name]) + ("" if row.feasible.get(name, True) else " !")


def options_rows(result: Result) -> list[list[str]]:
    best = result.option(result.cheapest).monthly_cost if result.cheapest else None
    rows = []
    for option in sorted(result.options, key=lambda o: o.monthly_cost):
        deployment = option.deployment
        rows.append(
            [
                option.name,
                option.label,
                format_usd(option.monthly_cost),
                _money(option.cost_per_mtok),
                "-" if option.gpus is None else str(option.gpus),
                _pct(deployment.utilisation_at_mean if deployment else None),
                _versus(option, result.cheapest, best),
            ]
        )
    return rows


OPTION_COLS = [
    Col("option", "id"),
    Col("kind", "id", drop=1),
    Col("monthly\ncost", "num"),
    Col("$/MTok", "num", drop=2),
    Col("GPUs", "num", drop=3),
    Col("util.\nmean", "num", drop=4),
    Col("vs\ncheapest", "text"),
]
LINE_COLS = [
    Col("option", "id"),
    Col("item", "id"),
    Col("USD/month", "num"),
    Col("how", "text"),
    Col("source", "note", drop=1),
]
BREAKEVEN_COLS = [
    Col("option", "id"),
    Col("versus", "id"),
    Col("tokens/\nmonth", "text", right=True),
    Col("requests/\nmonth", "num", drop=1),
    Col("note", "note"),
]


def line_rows(result: Result) -> list[list[str]]:
    rows = []
    for option in result.options:
        for i, line in enumerate(option.line_items):
            rows.append(
                [
                    option.name if i == 0 else "",
                    line.name,
                    format_usd(line.monthly_usd),
                    line.formula,
                    "your scenario file" if line.source == "scenario" else line.source or "",
                ]
            )
    return rows


def breakeven_rows(result: Result) -> list[list[str]]:
    return [
        [
            row.option,
            row.versus,
            _breakeven_volume(row),
            "-" if row.requests_per_month is None else format_tokens(row.requests_per_month),
            row.note,
        ]
        for row in result.breakeven
    ]


def sweep_parts(result: Result) -> tuple[list[Col], list[list[str]]]:
    names = [o.name for o in result.options]
    cols = [Col("tokens/\nmonth", "num"), *(Col(n, "num") for n in names), Col("verdict")]
    rows = [
        [format_tokens(row.tokens_per_month), *(_sweep_cell(row, n) for n in names), row.verdict]
        for row in result.sweep
    ]
    return cols, rows


SUGGESTION_COLS = [
    Col("for option", "id"),
    Col("kind", "id", drop=2),
    Col("suggestion", "text"),
    Col("monthly\ncost", "num"),
    Col("$/MTok", "num", drop=1),
]


def suggestion_rows(result: Result) -> list[list[str]]:
    kinds = {"hosted_api": "hosted API", "self_hosted": "self-hosted"}
    return [
        [s.for_option, kinds[s.kind], s.name, format_usd(s.monthly_cost), _money(s.cost_per_mtok)]
        for s in result.suggestions
    ]


def render_table(
    result: Result, console: Console, *, sweep_only: bool = False, wide: bool = False
) -> None:
    """The result for a terminal: fitted to its width (see report.terminal), or in full."""
    w = result.workload
    if not sweep_only:
        console.print(Text(result.name, style="bold"))
        console.print(
            Text(
                f"workload: {format_tokens(w.input_tokens_per_month)} input + "
                f"{format_tokens(w.output_tokens_per_month)} output tokens/month ({w.source}); "
                f"peak/mean {w.peak_to_mean:g}"
            )
        )
        console.print()
        print_table(
            console, "monthly cost per option", OPTION_COLS, options_rows(result), wide=wide
        )
        if result.suggestions:
            console.print()
            print_table(
                console,
                "suggestions: ways you did not list (not your options)",
                SUGGESTION_COLS,
                suggestion_rows(result),
                wide=wide,
            )
        for o in result.options:
            if o.chosen_by_search:
                console.print(Text(f"{o.name}: {o.chosen_by_search}"))
        console.print()
        print_table(console, "line items (USD/month)", LINE_COLS, line_rows(result), wide=wide)
        if result.breakeven:
            console.print()
            print_table(console, "break-even", BREAKEVEN_COLS, breakeven_rows(result), wide=wide)
    if result.sweep:
        cols, rows = sweep_parts(result)
        unserved = any(not all(row.feasible.values()) for row in result.sweep)
        console.print()
        print_table(
            console,
            "sweep over monthly volume (same split and shape)",
            cols,
            rows,
            wide=wide,
            caption="! cannot serve this volume (beyond its capacity, or the model does not fit)"
            if unserved
            else None,
        )


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
        "| option | kind | monthly cost | $/MTok | GPUs | vs cheapest |",
        "|---|---|---:|---:|---:|---|",
    ]
    best = result.option(result.cheapest).monthly_cost if result.cheapest else None
    for o in sorted(result.options, key=lambda o: o.monthly_cost):
        gpus = "-" if o.gpus is None else str(o.gpus)
        lines.append(
            f"| {_md(o.name)} | {o.label} | {format_usd(o.monthly_cost)} | "
            f"{_money(o.cost_per_mtok)} | {gpus} | {_versus(o, result.cheapest, best)} |"
        )
    reasons = [o for o in result.options if not o.feasible]
    if reasons:
        lines.append("")
        lines += [
            f"- **{_md(o.name)} cannot serve**: {_md(o.infeasible_reason or 'see the warnings')}"
            + (f"; {_md(o.to_serve.note)}" if o.to_serve else "")
            for o in reasons
        ]
    lines += [
        f"- {_md(o.name)}: {_md(o.chosen_by_search)}" for o in result.options if o.chosen_by_search
    ]
    if result.suggestions:
        lines += [
            "",
            "## Suggestions (ways you did not list, not your options)",
            "",
            "| for option | suggestion | monthly cost | $/MTok | note |",
            "|---|---|---:|---:|---|",
        ]
        lines += [
            f"| {_md(x.for_option)} | {_md(x.name)} | {format_usd(x.monthly_cost)} | "
            f"{_money(x.cost_per_mtok)} | {_md(x.note)} |"
            for x in result.suggestions
        ]
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
            volume = _breakeven_volume(b)
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
            cells = " | ".join(_md(_sweep_cell(row, n)) for n in names)
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
    writer.writerow(
        ["section", "option", "item", "tokens_per_month", "monthly_usd", "can_serve", "cheapest"]
    )
    volume = result.workload.total_tokens_per_month
    for o in result.options:
        name = _cell(o.name)
        can = str(o.feasible).lower()
        best = str(o.name == result.cheapest).lower()
        writer.writerow(["option", name, "total", volume, f"{o.monthly_cost:.6f}", can, best])
        for line in o.line_items:
            item = _cell(line.name)
            writer.writerow(["line_item", name, item, volume, f"{line.monthly_usd:.6f}", can, ""])
    for b in result.breakeven:
        writer.writerow(
            [
                "breakeven",
                _cell(b.option),
                _cell(b.versus),
                b.tokens_per_month or "",
                "",
                str(b.feasible).lower(),
                "",
            ]
        )
    for row in result.sweep:
        for option, cost in row.costs.items():
            writer.writerow(
                [
                    "sweep",
                    _cell(option),
                    _cell(row.cheapest or ""),
                    row.tokens_per_month,
                    f"{cost:.6f}",
                    str(row.feasible.get(option, True)).lower(),
                    str(option == row.cheapest).lower(),
                ]
            )
    return out.getvalue()
