"""A plan as tables: the ranked deployments, the hosted APIs, why candidates were dropped.

Every format renders the same :class:`~llm_tco.plan.model.PlanResult`; nothing is computed here
beyond formatting.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from llm_tco.core.units import format_tokens, format_usd
from llm_tco.plan.model import Dropped, PlanResult
from llm_tco.report.table import Table

if TYPE_CHECKING:
    from rich.console import Console

TOP = 15  # deployments a table lists (JSON and CSV carry every feasible one)
REASONS = {
    "does_not_fit": "does not fit",
    "misses_slo": "misses the SLO",
    "no_offer": "no offer",
    "no_engine": "no engine",
    "capacity_exceeded": "capacity exceeded",
    "superseded_offer": "superseded offer",
}


def _ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def deployments_table(plan: PlanResult, top: int = TOP) -> Table:
    rows = []
    for rank, d in enumerate(plan.deployments[:top], 1):
        rows.append(
            [
                f"{rank}{'*' if d.pareto else ''}",
                d.gpu,
                d.precision,
                f"{d.replicas}x{d.gpus_per_replica}",
                d.engine,
                d.offer,
                format_usd(d.monthly_cost),
                _ms(d.ttft_ms_at_load),
                _ms(d.tpot_ms_at_load),
                f"{d.utilisation_at_peak:.0%}",
            ]
        )
    shown = min(top, len(plan.deployments))
    note = (
        f"{shown} of {plan.feasible} feasible deployments, cheapest first; * on the cost vs "
        "latency front; replicas x GPUs per replica; TTFT/TPOT ms at the peak load"
    )
    return Table(
        title=f"Ways to self-host {plan.model} ({plan.model_name})",
        columns=[
            "#",
            "GPU",
            "prec.",
            "GPUs",
            "engine",
            "offer",
            "$/month",
            "TTFT",
            "TPOT",
            "util.",
        ],
        align=[
            "right",
            "left",
            "left",
            "right",
            "left",
            "left",
            "right",
            "right",
            "right",
            "right",
        ],
        rows=rows,
        note=note if rows else plan.why,
    )


def hosted_table(plan: PlanResult, top: int = TOP) -> Table:
    rows = [
        [
            a.provider,
            a.model,
            f"${a.input_per_mtok:g}",
            f"${a.output_per_mtok:g}",
            format_usd(a.monthly_cost),
        ]
        for a in plan.hosted_apis[:top]
    ]
    return Table(
        title=f"Hosted APIs serving {plan.model}",
        columns=["provider", "model", "in $/MTok", "out $/MTok", "$/month"],
        align=["left", "left", "right", "right", "right"],
        rows=rows,
        note=plan.hosted_note,
    )


def dropped_table(plan: PlanResult) -> Table:
    rows = [[REASONS[k], str(n)] for k, n in sorted(plan.dropped_counts.items())]
    examples: dict[str, Dropped] = {}
    for d in plan.dropped:
        examples.setdefault(d.reason, d)
    for row, (key, _) in zip(rows, sorted(plan.dropped_counts.items()), strict=True):
        e = examples[key]
        where = " ".join(
            str(v)
            for v in (e.gpu, e.precision, e.gpus_per_replica and f"x{e.gpus_per_replica}", e.engine)
            if v
        )
        row.append(f"e.g. {where}: {e.detail}")
    return Table(
        title="Candidates left out",
        columns=["why", "count", "example"],
        align=["left", "right", "left"],
        rows=rows,
        note="every one is listed in -f json (dropped[])",
    )


def headline(plan: PlanResult) -> str:
    slo = []
    if plan.ttft_slo_ms is not None:
        slo.append(f"TTFT <= {plan.ttft_slo_ms:g} ms")
    if plan.tpot_slo_ms is not None:
        slo.append(f"TPOT <= {plan.tpot_slo_ms:g} ms")
    return (
        f"{format_tokens(plan.total_tokens_per_month)} tokens/month, peak "
        f"{format_tokens(plan.peak_tokens_per_second)} tokens/s, "
        f"{plan.input_tokens_per_request:,.0f} in + {plan.output_tokens_per_request:,.0f} out "
        f"tokens/request{'; ' + ', '.join(slo) if slo else ''}. "
        f"{plan.searched} candidates in {plan.search_seconds:.2f} s."
    )


def tables(plan: PlanResult) -> list[Table]:
    return [deployments_table(plan), hosted_table(plan), dropped_table(plan)]


def render_terminal(plan: PlanResult, console: Console, wide: bool = False) -> None:
    from rich.text import Text

    from llm_tco.report.terminal import Col, print_notes, print_table

    console.print(Text(headline(plan)))
    console.print(Text(f"Chosen: {plan.why}", style="bold"))
    console.print()
    dep = deployments_table(plan)
    kinds = ["num", "id", "id", "num", "id", "id", "num", "num", "num", "num"]
    drops = [0, 0, 0, 0, 2, 1, 0, 3, 3, 4]
    cols = [Col(h, kind=k, drop=d) for h, k, d in zip(dep.columns, kinds, drops, strict=True)]  # type: ignore[arg-type]
    print_table(console, dep.title, cols, dep.rows, wide=wide, caption=dep.note)
    console.print()
    hosted = hosted_table(plan)
    if hosted.rows:
        hcols = [
            Col("provider", kind="id"),
            Col("model", kind="text", drop=1),
            Col("in $/MTok", kind="num", drop=2),
            Col("out $/MTok", kind="num", drop=2),
            Col("$/month", kind="num"),
        ]
        print_table(console, hosted.title, hcols, hosted.rows, wide=wide, caption=hosted.note)
    else:
        console.print(Text(hosted.note or ""))
    console.print()
    dropped = dropped_table(plan)
    if dropped.rows:
        dcols = [Col("why", kind="id"), Col("count", kind="num"), Col("example", kind="text")]
        print_table(console, dropped.title, dcols, dropped.rows, wide=wide, caption=dropped.note)
    if plan.notes:
        console.print(Text("Notes:", style="bold"))
        print_notes(console, plan.notes)


def render_markdown(plan: PlanResult) -> str:
    from llm_tco.report.markdown import md_table, md_text

    lines = [f"# Deployment search: {md_text(plan.model_name)}", "", md_text(headline(plan)), ""]
    lines += [f"**Chosen:** {md_text(plan.why)}", ""]
    for table in tables(plan):
        lines += md_table(table)
    if plan.notes:
        lines += ["## Notes", ""]
        lines += [f"- {md_text(n)}" for n in plan.notes]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_csv(plan: PlanResult) -> str:
    """One row per feasible deployment, then hosted APIs, then dropped candidates."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(
        [
            "section", "gpu", "precision", "gpus_per_replica", "replicas", "engine", "offer",
            "monthly_usd", "ttft_ms", "tpot_ms", "pareto", "chosen", "detail",
        ]
    )  # fmt: skip
    for i, d in enumerate(plan.deployments):
        w.writerow(
            [
                "deployment", d.gpu, d.precision, d.gpus_per_replica, d.replicas, d.engine,
                _cell(d.offer), f"{d.monthly_cost:.6f}", f"{d.ttft_ms_at_load:.3f}",
                f"{d.tpot_ms_at_load:.3f}", str(d.pareto).lower(), str(i == 0).lower(), "",
            ]
        )  # fmt: skip
    for a in plan.hosted_apis:
        w.writerow(
            [
                "hosted_api", "", "", "", "", _cell(a.provider), _cell(a.model),
                f"{a.monthly_cost:.6f}", "", "", "", "", _cell(a.source),
            ]
        )  # fmt: skip
    for x in plan.dropped:
        w.writerow(
            [
                x.reason, x.gpu, x.precision or "", x.gpus_per_replica or "", "", x.engine or "",
                _cell(x.offer or ""), "", "", "", "", "", _cell(x.detail),
            ]
        )  # fmt: skip
    return out.getvalue()
