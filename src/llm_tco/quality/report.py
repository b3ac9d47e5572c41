"""The quality result as display tables: the terminal, Markdown-free JSON twin and the HTML
report all render these (every figure is a field of :class:`QualityResult`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jinja2
from pydantic import BaseModel

from llm_tco.quality.result import EndpointSummary, QualityResult, Rate
from llm_tco.report.table import Table


class QualityView(BaseModel):
    title: str
    headline: str
    tables: dict[str, Table]
    warnings: list[str]
    judge_prompt: str | None


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def rate_cell(rate: Rate) -> str:
    if rate.rate is None:
        return "-"
    return f"{rate.rate:.1%} [{rate.low:.1%}, {rate.high:.1%}] ({rate.accepted}/{rate.graded})"


def usd(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"${value:,.{digits}f}"


def _ms(e: EndpointSummary, name: str) -> str:
    return "-" if e.latency_ms is None else f"{getattr(e.latency_ms, name):,.0f}"


def endpoints_table(result: QualityResult) -> Table:
    rows = [
        [
            e.name,
            e.model,
            rate_cell(e.acceptance),
            "-" if e.attempts_per_accepted is None else f"{e.attempts_per_accepted:.2f}",
            f"{e.retry_rate:.2f} [{e.retry_rate_low:.2f}, {e.retry_rate_high:.2f}]",
            ", ".join(f"{k} {v}" for k, v in sorted(e.errors.items())) or "-",
        ]
        for e in result.endpoints
    ]
    return Table(
        title="Acceptance per endpoint",
        columns=[
            "endpoint",
            "model",
            "accepted [95% CI]",
            "attempts/accepted",
            "retry rate [95% CI]",
            "errors",
        ],
        align=["left", "left", "right", "right", "right", "left"],
        rows=rows,
        note="Wilson score intervals over the prompts finished (accepted, or out of attempts).",
    )


def cost_table(result: QualityResult) -> Table:
    rows = [
        [
            e.name,
            _ms(e, "p50"),
            _ms(e, "p90"),
            _ms(e, "p99"),
            f"{e.input_tokens:,} / {e.output_tokens:,}" + (" (est.)" if e.tokens_estimated else ""),
            usd(e.cost_usd),
            usd(e.cost_per_accepted_usd, 6),
            usd(e.judge_cost_usd),
        ]
        for e in result.endpoints
    ]
    return Table(
        title="Latency, tokens and cost per endpoint",
        columns=[
            "endpoint",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "tokens in / out",
            "cost",
            "cost/accepted",
            "judge cost",
        ],
        align=["left", *["right"] * 7],
        rows=rows,
        note="Cost at the endpoint's price, re-asks included; the judge's cost is shown apart.",
    )


def tasks_table(result: QualityResult) -> Table:
    names = [e.name for e in result.endpoints]
    rows = []
    for task, count in sorted(result.tasks.items()):
        cells = [task, str(count)]
        for e in result.endpoints:
            found = next((t.acceptance for t in e.by_task if t.task == task), None)
            cells.append("-" if found is None else rate_cell(found))
        rows.append(cells)
    return Table(
        title="Acceptance by task label",
        columns=["task", "sampled", *names],
        align=["left", "right", *["right"] * len(names)],
        rows=rows,
    )


def differences_table(result: QualityResult) -> Table:
    rows = [
        [
            d.endpoint,
            d.versus,
            d.task or "all",
            f"{d.difference:+.1%}",
            f"[{d.low:+.1%}, {d.high:+.1%}]",
            "yes" if d.low > 0 or d.high < 0 else "no",
        ]
        for d in result.differences
    ]
    return Table(
        title="Difference in acceptance rate",
        columns=["endpoint", "versus", "task", "difference", "95% CI", "clear at 95%"],
        align=["left", "left", "left", "right", "right", "left"],
        rows=rows,
        note="Newcombe's hybrid score interval; 'no' means the sample cannot tell them apart.",
    )


def pairwise_table(result: QualityResult) -> Table:
    rows = [
        [
            p.endpoint,
            p.versus,
            f"{p.wins} / {p.ties} / {p.losses}",
            rate_cell(p.win),
            rate_cell(p.at_least_as_good),
            str(p.no_verdict),
            usd(p.judge_cost_usd),
        ]
        for p in result.pairwise
    ]
    return Table(
        title="Pairwise: the judge's preference against the baseline",
        columns=[
            "endpoint",
            "versus",
            "won / tied / lost",
            "won [95% CI]",
            "won or tied [95% CI]",
            "no verdict",
            "judge cost",
        ],
        align=["left", "left", "right", "right", "right", "right", "right"],
        rows=rows,
        note="Each pair shown in an order fixed by the prompt's hash, half each way.",
    )


def headline(result: QualityResult) -> str:
    parts = [f"{e.name} {pct(e.acceptance.rate)} accepted" for e in result.endpoints]
    text = f"{result.sample_size} prompts: " + ", ".join(parts)
    if result.stopped != "done":
        text += f" (stopped: {result.stopped}; run again with the same --dir to continue)"
    return text


def build_view(result: QualityResult, warnings: list[str] | None = None) -> QualityView:
    settings = Table(
        title="Settings",
        columns=["setting", "value"],
        align=["left", "left"],
        rows=[
            ["prompts", result.prompts_file],
            ["sample", f"{result.sample_size} (seed {result.seed})"],
            ["graders", ", ".join(result.graders)],
            ["attempts per prompt", str(result.max_attempts)],
            [
                "judge",
                "-" if result.judge is None else f"{result.judge.endpoint} ({result.judge.model})",
            ],
            ["requests sent / kept", f"{result.requests_sent} / {result.records_kept}"],
            ["outputs kept", "yes" if result.keep_outputs else "no"],
        ],
    )
    tables = {
        "endpoints": endpoints_table(result),
        "cost": cost_table(result),
        "tasks": tasks_table(result),
    }
    if result.differences:
        tables["differences"] = differences_table(result)
    if result.pairwise:
        tables["pairwise"] = pairwise_table(result)
    tables["settings"] = settings
    pending = [
        f"{e.name}: {e.prompts_pending} prompts not finished"
        for e in result.endpoints
        if e.prompts_pending
    ]
    return QualityView(
        title="Quality pilot",
        headline=headline(result),
        tables=tables,
        warnings=[*(warnings or []), *pending],
        judge_prompt="\n\n".join(
            t
            for t in (
                result.judge.prompt_template if result.judge else None,
                result.judge.pairwise_prompt_template if result.judge else None,
            )
            if t
        )
        or None,
    )


def render_html(result: QualityResult, generated: dt.datetime | None = None) -> str:
    """One self-contained HTML page; everything user-supplied is autoescaped."""
    from llm_tco.report.html import asset_text, package_version

    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.PackageLoader("llm_tco.quality", "templates"),
                jinja2.PackageLoader("llm_tco.report", "templates"),
            ]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    context: dict[str, Any] = {
        "view": build_view(result),
        "charts": {},
        "css": asset_text("style.css"),
        "scripts": (),
        "version": package_version(),
        "generated": (generated or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC"),
    }
    return env.get_template("quality.html.j2").render(context)
