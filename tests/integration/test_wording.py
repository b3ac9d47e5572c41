"""One wording for every fact: every example through every output format, scanned.

Sources are named by their article title or URL (never an internal nickname such as "seed 1"
or "S3"), money below zero reads -$6,671 (never $-6,671), a ratio is printed only when it
says something (never "infx", "nanx" or "1.0x cheaper"), volumes are 3.75M (never 3.75e+06),
and "(seed None)" is never printed. Ids and numbers are never cut with an ellipsis at 80
columns, piped or not.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llm_tco.cli import app
from llm_tco.core.units import format_ratio, format_usd

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
FORMATS = ("table", "json", "markdown", "csv")

FORBIDDEN = {
    # "seed 3" alone is a random seed, which is fine; an article is never "seed 1", "Seed 1:",
    # 'seed "Title"', "the seed's", "seed row", "seed rule of thumb".
    "a source named 'seed'": re.compile(
        r"\b[Ss]eeds?\s+(\"|'|row|rule|article)|\bSeed\b|\bseeds?'s?(?!\w)|\b[Tt]he seeds?\b"
        # "(seed: EUR 90-130k/year)", "(seeds)": an article named as a seed, not a seed number
        r"|\(seeds?\)|\bseeds?:\s*(?![\d\s])"
    ),
    "a source named S0..S4": re.compile(r"(?<![\w./-])S[0-4](?![\w.])"),
    "(seed None)": re.compile(r"seed None"),
    "infx / nanx": re.compile(r"\b(inf|nan)x\b"),
    "$-": re.compile(r"\$-"),
    "an exponent in a volume": re.compile(r"\d\.?\d*e[+-]\d"),
    "1.0x": re.compile(r"\b1\.0x\b"),
    "an ellipsis": re.compile("…"),
}


def scan(text: str) -> list[str]:
    found = []
    for what, pattern in FORBIDDEN.items():
        for match in pattern.finditer(text):
            start = max(0, match.start() - 50)
            found.append(f"{what}: ...{text[start : match.end() + 30]!r}...")
    return found


def run(*args: str) -> str:
    # COLUMNS=80: the narrowest layout the terminal tables are designed for.
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.output


def test_the_scanner_finds_each_forbidden_form() -> None:
    bad = [
        'as in seed "Open Source LLMs as Cost Floor"',
        "Seed 1: high volume",
        "S3 says",
        "monthly cost over 100 samples (seed None)",
        "infx",
        "$-6,671",
        "3.75e+06 tokens",
        "1.0x cheaper",
        "h100-sx…",
        "or hire (seed: EUR 90-130k/year)",
        '(seed: "unsuitable for production inference")',
        "10-20% of an engineer (seeds)",
    ]
    for text in bad:
        assert scan(text), text
    good = (
        "llama 2.2x cheaper; -$6,671; 3.75M tokens; --seed 3; https://example.com/S3.pdf; "
        '{"seed": 3}; seed: 3'
    )
    assert scan(good) == []


def test_money_and_ratio_formats() -> None:
    assert format_usd(-6671.2) == "-$6,671"
    assert format_usd(-0.5) == "-$0.5"
    assert format_ratio(1.04) is None  # "same cost"
    assert format_ratio(float("inf")) is None
    assert format_ratio(1.06) == "1.1x"
    assert format_ratio(2.24) == "2.2x"


def test_vs_cheapest_past_any_ratio_is_the_bound_not_same_cost() -> None:
    # A free cheapest option (ratio x / 0) or one of 1e-300 (ratio inf) once read "same cost".
    from types import SimpleNamespace

    from llm_tco.report.text import _versus

    def vs(cost: float, best: float) -> str:
        option = SimpleNamespace(feasible=True, name="b", monthly_cost=cost, to_serve=None)
        return _versus(option, "a", best)  # type: ignore[arg-type]

    assert vs(100.0, 0.0) == "over 1,000,000x"
    assert vs(1e10, 1e-300) == "over 1,000,000x"
    assert vs(0.0, 0.0) == "same cost"
    assert vs(104.0, 100.0) == "same cost"
    assert vs(250.0, 100.0) == "2.5x"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_in_every_format_says_one_thing(example: Path) -> None:
    problems = []
    for fmt in FORMATS:
        problems += scan(run("evaluate", str(example), "-f", fmt))
        problems += scan(run("recommend", str(example), "--samples", "200", "-f", fmt))
        problems += scan(run("simulate", str(example), "--samples", "200", "-f", fmt))
        problems += scan(run("sensitivity", str(example), "-f", fmt))
    assert problems == []


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_sweep_and_term_in_every_format_say_one_thing(example: Path) -> None:
    problems = []
    for fmt in FORMATS:
        problems += scan(run("sweep", str(example), "-f", fmt))
        problems += scan(run("term", str(example), "--months", "24", "-f", fmt))
    assert problems == []


def test_evaluate_table_keeps_ids_and_prices_whole() -> None:
    example = ROOT / "examples" / "seed1-high-volume-haiku-vs-llama.yaml"
    text = run("evaluate", str(example))
    # Every option name and every monthly cost appears in full.
    for token in ("claude-haiku-4.5", "llama-3.3-70b", "$20,000", "$9,200", "$6,000", "5.11B"):
        assert token in text, token


@pytest.mark.parametrize(
    "listing",
    [
        ["apis", "--search", "claude"],
        ["gpus"],
        ["offers"],
        ["models"],
        ["rate-limits"],
        ["provisioned"],
    ],
)
def test_catalog_listings_say_one_thing(listing: list[str]) -> None:
    problems = []
    for fmt in FORMATS:
        problems += scan(run("catalog", *listing, "-f", fmt))
    assert problems == []


def test_catalog_offers_at_80_columns_show_every_id_and_price() -> None:
    from llm_tco.catalog import load_catalog

    text = run("catalog", "offers")
    for offer in load_catalog().offers:
        assert offer.id in text
        assert f"{offer.price:g}" in text


def test_page_view_and_html_report_say_one_thing() -> None:
    import support

    client = support.api_client()
    problems = []
    for example in EXAMPLES:
        body = example.read_bytes()
        view = client.post("/api/view", content=body, headers={"content-type": "application/yaml"})
        assert view.status_code == 200, view.text
        # What the page shows: the view and the result (the charts are Vega-Lite code).
        shown = view.json()
        problems += scan(json.dumps({k: shown[k] for k in ("view", "result")}))
        report = client.post(
            "/api/report?format=html", content=body, headers={"content-type": "application/yaml"}
        )
        assert report.status_code == 200
        # The report embeds the chart libraries; scan what it says, not their code.
        text = re.sub(r"<script[^>]*>.*?</script>", "", report.text, flags=re.S)
        problems += scan(text)
    assert problems == []


def test_an_old_exchange_rate_is_dated_and_flagged() -> None:
    import datetime as dt

    from llm_tco.catalog import load_catalog
    from llm_tco.evaluate import evaluate
    from llm_tco.scenario import load_scenario

    rate = load_catalog().ops_default("usd_per_eur")
    result = evaluate(load_scenario(ROOT / "examples" / "seed4-sonnet-haiku-vs-gex44.yaml"))
    stale = [w for w in result.warnings if w.code == "stale_exchange_rate"]
    assert rate.as_of is not None
    if (dt.date.today() - rate.as_of).days > 90:
        assert len(stale) == 1 and str(rate.as_of) in stale[0].message
    else:
        assert stale == []
    assert any(a.name == "USD per EUR" and a.as_of == rate.as_of for a in result.assumptions)
