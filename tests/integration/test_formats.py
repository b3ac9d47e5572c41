"""-f table|json|markdown|csv and the 80-column tables on recommend, simulate, sensitivity,
ingest, capacity and validate-capacity: one option, one printer, the same four formats as
evaluate and catalog.

The terminal tables are printed to an 80-column terminal and checked: no line is wider, no
"…" anywhere, and every id and number cell of every table appears whole in the output.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console
from typer.testing import CliRunner

from llm_tco.capacity_validation import ErrorSummary
from llm_tco.cli import app
from llm_tco.report.tables import Shown, emit_tables
from llm_tco.report.terminal import _wrap_at

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "seed1-high-volume-haiku-vs-llama.yaml"
CAPACITY = ["capacity", "llama-3.3-70b", "h100-sxm-80gb", "-n", "2", "--precision", "fp8"]


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.output


def terminal(lines: list[str], tables: list[Shown], after: list[str] = ()) -> str:  # type: ignore[assignment]
    """What an 80-column terminal shows."""
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True, color_system=None)
    emit_tables(SimpleNamespace(), lines, tables, "table", console, after=after)  # type: ignore[arg-type]
    return out.getvalue()


def assert_fits_80_and_whole(text: str, tables: list[Shown]) -> None:
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    for table in tables:
        for row in table.rows:
            for col, cell in zip(table.cols, row, strict=True):
                # A column left out at 80 columns is named under the table instead.
                if col.kind in ("id", "num") and col.drop == 0:
                    assert cell in text, (table.title, col.header, cell)


@pytest.mark.parametrize(
    "args",
    [
        ["recommend", str(EXAMPLE), "--samples", "200", "--seed", "1"],
        ["simulate", str(EXAMPLE), "--samples", "200", "--seed", "1"],
        ["sensitivity", str(EXAMPLE)],
        CAPACITY,
    ],
    ids=lambda a: a[0],
)
def test_every_format_is_honoured(args: list[str]) -> None:
    data = json.loads(run(*args, "-f", "json"))
    assert isinstance(data, dict) and data
    if args[0] != "capacity":  # the old spelling is kept for scripts
        assert json.loads(run(*args, "--json")) == data
    rows = list(csv.reader(io.StringIO(run(*args, "-f", "csv"))))
    assert len(rows) >= 2 and all(len(r) == len(rows[0]) for r in rows)
    markdown = run(*args, "-f", "markdown")
    assert "\n## " in "\n" + markdown and "|---" in markdown
    piped = run(*args)  # not a terminal: plain and complete
    assert "\x1b[" not in piped and "…" not in piped and "not shown:" not in piped


def test_formats_carry_the_same_numbers() -> None:
    """The sensitivity's swing in JSON is the CSV's, to the dollar."""
    data = json.loads(run("sensitivity", str(EXAMPLE), "-f", "json"))
    rows = list(csv.DictReader(io.StringIO(run("sensitivity", str(EXAMPLE), "-f", "csv"))))
    assert [r["input"] for r in rows] == [r["path"] for r in data["rows"]]
    for shown, row in zip(rows, data["rows"], strict=True):
        assert shown["swing"] == f"${row['swing_usd']:,.0f}"


def test_recommend_simulate_sensitivity_fit_80_columns() -> None:
    from llm_tco.recommend_eval import recommend
    from llm_tco.scenario import load_scenario
    from llm_tco.sensitivity import tornado
    from llm_tco.uncertainty_cli import recommendation_shown, sensitivity_shown

    scenario = load_scenario(EXAMPLE)
    lines, tables, after = recommendation_shown(recommend(scenario, 200, 1))
    text = terminal(lines, tables, after)
    assert_fits_80_and_whole(text, tables)
    assert "[1]" in text  # the reasons' evidence moved to numbered notes
    tables = sensitivity_shown(tornado(scenario), 0.25)
    text = terminal([], tables)
    assert_fits_80_and_whole(text, tables)
    assert "not shown: low, high, gap at low, gap at high" in text
    # Each input's path is there whole once its wrapped lines are joined.
    joined = "".join(line.split("  ")[0] for line in text.splitlines())
    for row in tables[0].rows:
        assert row[0] in joined


def test_capacity_and_validation_fit_80_columns() -> None:
    from llm_tco.capacity_cli import CapacityReport, capacity_shown, validation_shown

    report = CapacityReport.model_validate_json(run(*CAPACITY, "-f", "json"))
    lines, tables, after = capacity_shown(report)
    assert_fits_80_and_whole(terminal(lines, tables, after), tables)

    summary = ErrorSummary(
        rows=12, median_ape_percent=17.6, mape_percent=35.6, median_signed_percent=-1.7
    )
    groups = {"Argonne National Laboratory (LLM-Inference-Bench)": summary, "NVIDIA": summary}
    fake = SimpleNamespace(
        method="leave-one-publisher-out",
        rows_given=None,
        overall=summary,
        seconds=1.0,
        cpu_seconds=1.0,
        level_removed={"all": summary, "dense": summary, "moe": summary},
        **{f"by_{k}": groups for k in ("class", "publisher", "engine", "gpu", "mode")},
    )
    lines, tables, every = validation_shown(fake)
    assert_fits_80_and_whole(terminal(lines, tables), tables)
    assert [r[:2] for r in every.rows[:2]] == [["class", k] for k in groups]


def test_ingest_in_every_format(tmp_path: Path) -> None:
    logs = tmp_path / "logs.csv"
    run("demo-logs", str(logs), "--rows", "2000")
    data = json.loads(run("ingest", str(logs), "-f", "json"))
    rows = list(csv.DictReader(io.StringIO(run("ingest", str(logs), "-f", "csv"))))
    assert [r["model"] for r in rows] == [m["model"] for m in data["groups"]["all"]["models"]]
    assert "## Per model: all" in run("ingest", str(logs), "-f", "markdown")
    # The log format and the output format still share --format.
    assert json.loads(run("ingest", str(logs), "-f", "generic", "-f", "json")) == data


def test_a_long_path_wraps_after_its_dots_only() -> None:
    path = "options[llama-3.3-70b].self_hosted.gpu_monthly_price"
    assert _wrap_at(path, ".]", 36) == "options[llama-3.3-70b].self_hosted.\ngpu_monthly_price"
    assert _wrap_at(path, ".]", 80) == path
    assert _wrap_at(path, ".]", 5).replace("\n", "") == path  # a part is never cut
