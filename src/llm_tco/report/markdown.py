"""The Markdown report: the report view as Markdown tables, charts as PNG files beside it."""

from __future__ import annotations

from pathlib import Path

from llm_tco.report.bench_view import BenchReport
from llm_tco.report.charts import to_png
from llm_tco.report.decision_view import RecommendationView
from llm_tco.report.view import Report, Table


def md_text(text: str) -> str:
    """Escape a string for a Markdown table cell: no HTML, no column breaks, no line breaks."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # Backslashes first: a "\\" before "|" would otherwise escape the escape, and end the cell.
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    # Leading characters that would turn plain text into Markdown syntax.
    return text.replace("[", "\\[").replace("]", "\\]").replace("`", "\\`")


def md_table(table: Table) -> list[str]:
    lines = [f"## {md_text(table.title)}", ""]
    if not table.rows:
        return [*lines, md_text(table.note or "none"), ""]
    lines.append("| " + " | ".join(md_text(c) or " " for c in table.columns) + " |")
    lines.append("|" + "|".join("---:" if a == "right" else "---" for a in table.align) + "|")
    lines += ["| " + " | ".join(md_text(cell) for cell in row) + " |" for row in table.rows]
    if table.note:
        lines += ["", md_text(table.note)]
    return [*lines, ""]


def chart_files(report: Report, stem: str) -> dict[str, str]:
    """File name of each chart's PNG, next to the Markdown file."""
    return {name: f"{stem}-{name}.png" for name in report.charts}


def render_markdown_report(report: Report, chart_names: dict[str, str]) -> str:
    view = report.view
    lines = [
        f"# {md_text(view.title)}",
        "",
        f"**{md_text(view.headline)}**",
        "",
        f"Workload: {md_text(view.workload)}",
        "",
    ]
    lines += md_table(view.tables["options"])
    if view.infeasible:
        lines += [f"- **{md_text(line)}**" for line in view.infeasible] + [""]
    if view.recommendation is not None:
        lines += md_recommendation(view.recommendation)
    if view.warnings:
        lines += ["## Warnings", ""] + [f"- {md_text(w)}" for w in view.warnings] + [""]
    for name in ("cost_curve", "breakdown"):
        lines += md_chart(name, chart_names)
    if "suggestions" in view.tables:
        lines += md_table(view.tables["suggestions"])
    if "ways_to_serve" in view.tables:
        lines += md_chart("ways_to_serve", chart_names)
    lines += [
        line
        for k in view.tables
        if k.startswith("ways_to_serve")
        for line in md_table(view.tables[k])
    ]
    if "bands" in chart_names or "tornado" in view.tables:
        lines += ["## How sure is this", ""]
        lines += md_chart("bands", chart_names)
        for key in ("simulation", "simulation_breakeven"):
            lines += md_table(view.tables[key]) if key in view.tables else []
        lines += md_chart("tornado", chart_names)
        lines += md_table(view.tables["tornado"]) if "tornado" in view.tables else []
    if "trace" in chart_names:
        lines += ["## Sizing from the traffic", ""]
        lines += md_chart("trace", chart_names)
        lines += md_table(view.tables["trace_mix"]) if "trace_mix" in view.tables else []
    for key in ("breakeven", "sweep", "line_items", "capability_tax", "idle", "assumptions"):
        lines += md_table(view.tables[key]) if key in view.tables else []
    return "\n".join(lines)


def md_chart(name: str, chart_names: dict[str, str]) -> list[str]:
    if name not in chart_names:
        return []
    return [f"![{name.replace('_', ' ')} chart]({chart_names[name]})", ""]


def md_recommendation(rec: RecommendationView) -> list[str]:
    lines = [f"## Recommendation: {md_text(rec.choose)}", "", f"**{md_text(rec.summary)}**", ""]
    lines += [
        f"- *{md_text(r.label)}*: {md_text(r.text)} ({md_text(r.evidence)})" for r in rec.reasons
    ]
    lines += [""] + [f"{md_text(note)}  " for note in rec.notes]
    return [*lines, ""]


def render_bench_markdown(report: BenchReport, chart_names: dict[str, str]) -> str:
    view = report.view
    lines = [f"# {md_text(view.title)}", "", f"**{md_text(view.headline)}**", ""]
    tables = view.tables
    for key in tables:
        lines += md_table(tables[key]) if key.startswith(("compare", "levels")) else []
    if view.warnings:
        lines += ["## Warnings", ""] + [f"- {md_text(w)}" for w in view.warnings] + [""]
    for name in chart_names:
        lines += md_chart(name, chart_names)
    lines += md_table(tables["settings"]) if "settings" in tables else []
    return "\n".join(lines)


def write_markdown_report(report: Report | BenchReport, path: Path) -> list[Path]:
    """Write ``path`` and its chart PNGs beside it; return every file written."""
    names = {name: f"{path.stem}-{name}.png" for name in report.charts}
    written = []
    for name, file in names.items():
        target = path.parent / file
        target.write_bytes(to_png(report.charts[name]))
        written.append(target)
    if isinstance(report, BenchReport):
        text = render_bench_markdown(report, names)
    else:
        text = render_markdown_report(report, names)
    path.write_text(text, encoding="utf-8")
    return [path, *written]
