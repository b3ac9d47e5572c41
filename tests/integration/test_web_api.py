"""The JSON API in-process: same numbers as the CLI, one error shape, escaping, size limit."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="FastAPI is not installed: pip install -e .")
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import support
from llm_tco.cli import app as cli_app

ROOT = Path(__file__).resolve().parents[2]
SEED1 = ROOT / "examples" / "seed1-high-volume-haiku-vs-llama.yaml"
FIVE = ROOT / "benchmarks" / "five-options.yaml"
XSS = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
YAML = {"content-type": "application/yaml"}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return support.api_client()


def xss_scenario() -> dict:
    return {
        "name": XSS,
        "description": XSS,
        "workload": {"tokens_per_month": "1B", "input_share": 0.5},
        "options": [
            {"name": XSS, "api": {"input_per_mtok": 1, "output_per_mtok": 2}},
            {
                "name": "self",
                "self_hosted": {
                    "gpu": "h100-sxm-80gb",
                    "gpu_count": 1,
                    "gpu_monthly_price": 2000,
                    "ops_monthly": 0,
                    "ops_defaults": False,
                },
            },
        ],
    }


def assert_error(response, status: int, field: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False and body["status"] == status and isinstance(body["error"], str)
    assert isinstance(body["errors"], list)
    if field is not None:
        assert body["errors"][0]["field"] == field, body
    return body


# --- same numbers everywhere ------------------------------------------------------------------


@pytest.mark.parametrize("path", [SEED1, FIVE])
def test_api_page_and_cli_give_identical_numbers(client: TestClient, path: Path) -> None:
    cli = CliRunner().invoke(cli_app, ["evaluate", str(path), "--format", "json"])
    assert cli.exit_code == 0, cli.output
    from_cli = json.loads(cli.stdout)
    api = client.post("/api/evaluate", content=path.read_bytes(), headers=YAML)
    assert api.status_code == 200
    assert api.json() == from_cli
    # The page draws /api/view: its result is the same but for the deployment search, which it
    # asks /api/ways for after drawing (test_page_edit_leaves_the_search_to_api_ways), and its
    # tables format those numbers.
    view = client.post("/api/view", content=path.read_bytes(), headers=YAML).json()
    searched = ("suggestions", "ways_to_serve")
    assert {k: v for k, v in view["result"].items() if k not in searched} == {
        k: v for k, v in from_cli.items() if k not in searched
    }
    from llm_tco.core.units import format_usd

    shown = {row[0]: row[2] for row in view["view"]["tables"]["options"]["rows"]}
    assert shown == {o["name"]: format_usd(o["monthly_cost"]) for o in from_cli["options"]}


def test_seed1_numbers_by_hand(client: TestClient) -> None:
    result = client.post("/api/evaluate", content=SEED1.read_bytes(), headers=YAML).json()
    costs = {o["name"]: o["monthly_cost"] for o in result["options"]}
    # Seed 1: 10B input x $1 + 2B output x $5 = $20,000; 4 x $1,500 + $2,000 + 12B x $0.10/MTok
    # = $9,200.
    assert costs == pytest.approx({"claude-haiku-4.5": 20_000, "llama-3.3-70b": 9_200})
    # Curves cross at $8,000 fixed / ($2,000/1,200 per MTok - $0.10) = 5,106.4M tokens/month:
    # a break-even when the 4 GPUs' capacity reaches it, else a crossing it cannot reach.
    row = result["breakeven"][0]
    assert row["crossing_tokens_per_month"] == pytest.approx(8000 / (2000 / 1200 - 0.1) * 1e6)
    llama = next(o for o in result["options"] if o["name"] == "llama-3.3-70b")
    reaches = row["crossing_tokens_per_month"] <= llama["deployment"]["capacity_tokens_per_month"]
    assert row["feasible"] is reaches
    assert row["tokens_per_month"] == (row["crossing_tokens_per_month"] if reaches else None)


def test_sweep_endpoint_matches_cli_sweep(client: TestClient) -> None:
    import yaml

    cli = CliRunner().invoke(
        cli_app, ["sweep", str(SEED1), "--volumes", "50M,2B", "--format", "json"]
    )
    body = {"scenario": yaml.safe_load(SEED1.read_text()), "volumes": ["50M", 2e9]}
    api = client.post("/api/sweep", json=body)
    assert api.status_code == 200
    assert api.json() == json.loads(cli.stdout)
    # At 50M tokens (5/6 input): Haiku 41.67M x $1 + 8.33M x $5 = $83.33.
    assert api.json()["sweep"][0]["costs"]["claude-haiku-4.5"] == pytest.approx(250 / 3)


# --- escaping ---------------------------------------------------------------------------------


def test_user_text_is_escaped_in_the_html_report(client: TestClient) -> None:
    response = client.post("/api/report?format=html", json=xss_scenario())
    assert response.status_code == 200
    html = response.text
    assert XSS not in html
    assert ESCAPED in html
    # Chart specs go in through tojson, which writes < as \u003c inside the script.
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in html
    # Self-contained: nothing fetched from elsewhere.
    assert "<script src" not in html and "<link" not in html


def test_user_text_is_escaped_in_the_markdown_report(client: TestClient) -> None:
    response = client.post("/api/report?format=md", json=xss_scenario())
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == [
        "report-breakdown.png",
        "report-cost_curve.png",
        "report-tornado.png",  # two options: the tornado of their gap
        "report.md",
    ]
    markdown = archive.read("report.md").decode()
    assert XSS not in markdown and ESCAPED in markdown
    assert archive.read("report-cost_curve.png").startswith(b"\x89PNG")


def test_page_serves_only_local_scripts(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "//cdn" not in page.text and "https://" not in page.text
    for path in (
        "/assets/vega.min.js",
        "/assets/vega-lite.min.js",
        "/assets/vega-embed.min.js",
        "/static/app.js",
    ):
        assert client.get(path).status_code == 200
    # The page's script never hands text to innerHTML.
    assert "innerHTML" not in client.get("/static/app.js").text


# --- errors -----------------------------------------------------------------------------------


def test_malformed_json_is_422_naming_the_body(client: TestClient) -> None:
    body = assert_error(client.post("/api/evaluate", content=b'{"name": '), 422, "body")
    assert "malformed JSON" in body["error"]


def test_invalid_scenario_is_422_naming_the_field(client: TestClient) -> None:
    scenario = xss_scenario()
    scenario["options"][1]["self_hosted"]["gpu_monthly_price"] = "lots"
    assert_error(
        client.post("/api/evaluate", json=scenario),
        422,
        "options[1:self].self_hosted.gpu_monthly_price",
    )


def test_unknown_catalog_name_is_422_naming_the_field(client: TestClient) -> None:
    scenario = xss_scenario()
    scenario["options"][1]["self_hosted"]["gpu"] = "h100-imaginary"
    body = assert_error(
        client.post("/api/evaluate", json=scenario), 422, "options[self].self_hosted.gpu"
    )
    assert "unknown GPU" in body["error"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scenario": {"workload": {}}, "volumes": ["1B"]}, "scenario.workload"),
        ({"scenario": xss_scenario(), "volumes": [-1]}, "volumes[0]"),
        ({"scenario": xss_scenario()}, "volumes"),
    ],
)
def test_sweep_errors_name_the_field(client: TestClient, body: dict, field: str) -> None:
    assert_error(client.post("/api/sweep", json=body), 422, field)


def test_yaml_alias_expansion_is_bounded(client: TestClient) -> None:
    # Nine levels of nine aliases: 9^9 = 387M values once expanded, from 300 bytes.
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    response = client.post("/api/evaluate", content="\n".join(lines), headers=YAML)
    body = assert_error(response, 422)
    assert body["errors"][0]["field"].startswith("body line ")
    assert "50,000 values" in body["error"]


def test_bodies_over_5_mb_are_refused(client: TestClient) -> None:
    big = b" " * (5 * 1024 * 1024 + 1)
    assert_error(client.post("/api/evaluate", content=big), 413)

    def chunks():  # no Content-Length: counted while streaming
        for _ in range(6):
            yield b" " * (1024 * 1024)

    assert_error(client.post("/api/evaluate", content=chunks()), 413)
    # Exactly 5 MB is read (and is not a scenario).
    assert_error(client.post("/api/evaluate", content=b" " * (5 * 1024 * 1024)), 422)


def test_other_errors_share_the_shape(client: TestClient) -> None:
    assert_error(client.get("/api/nothing"), 404)
    assert_error(client.get("/api/evaluate"), 405)
    assert_error(client.get("/api/catalog/apis?limit=0"), 422, "limit")


# --- the rest of the API ----------------------------------------------------------------------


def test_catalog_search(client: TestClient) -> None:
    gpus = client.get("/api/catalog/gpus?search=h100").json()
    assert gpus["ok"] and gpus["rows"] and all("h100" in r["id"] for r in gpus["rows"])
    assert all(r["source"] and r["as_of"] for r in gpus["rows"])
    apis = client.get("/api/catalog/apis?search=haiku&limit=3").json()
    assert len(apis["rows"]) <= 3 and all("haiku" in r["model"] for r in apis["rows"])


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/api/health").json()["ok"] is True
    schema = client.get("/openapi.json").json()
    assert {
        "/api/evaluate",
        "/api/sweep",
        "/api/view",
        "/api/report",
        "/api/health",
        "/api/catalog/{kind}",
    } <= set(schema["paths"])
    assert "workload" in schema["components"]["schemas"]["Scenario"]["properties"]


def test_report_command_writes_html_and_markdown(tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    result = CliRunner().invoke(cli_app, ["report", str(SEED1), "-o", str(html)])
    assert result.exit_code == 0, result.output
    text = html.read_text()
    assert "$9,200" in text and "5.11B" in text and "<script src" not in text
    md = tmp_path / "r.md"
    assert CliRunner().invoke(cli_app, ["report", str(SEED1), "-o", str(md)]).exit_code == 0
    assert "![cost curve chart](r-cost_curve.png)" in md.read_text()
    assert (tmp_path / "r-cost_curve.png").read_bytes().startswith(b"\x89PNG")
    bad = CliRunner().invoke(cli_app, ["report", str(SEED1), "-o", str(tmp_path / "r.pdf")])
    assert bad.exit_code == 2


def test_page_edit_leaves_the_search_to_api_ways(client: TestClient) -> None:
    """A page edit (/api/view) does not run the deployment search; /api/ways gives the same
    ways-to-serve table the HTML report shows, from the same search as `llm-tco evaluate`."""
    body = SEED1.read_text(encoding="utf-8")
    view = client.post("/api/view", content=body, headers=YAML).json()
    assert "ways_to_serve" not in view["view"]["tables"]
    assert view["result"]["ways_to_serve"] == []
    ways = client.post("/api/ways", content=body, headers=YAML)
    assert ways.status_code == 200
    payload = ways.json()
    table = payload["tables"]["ways_to_serve"]
    assert table["title"].startswith("Ways to serve llama-3.3-70b")
    assert "ways_to_serve" in payload["charts"]
    evaluated = json.loads(
        CliRunner().invoke(cli_app, ["evaluate", str(SEED1), "-f", "json"]).stdout
    )
    chosen = evaluated["ways_to_serve"][0]["chosen"]
    cost = f"${chosen['monthly_cost']:,.0f}"
    assert any(row[4] == cost and "chosen" in row[-1] for row in table["rows"]), (cost, table)
    # Bad input gets the same refusal as the view endpoint.
    bad = client.post("/api/ways", content="workload: [", headers=YAML)
    assert (
        bad.status_code == client.post("/api/view", content="workload: [", headers=YAML).status_code
    )
