"""Exit codes scripts can trust, --version, and sweep's default volumes."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from typer.testing import CliRunner

from llm_tco import __version__
from llm_tco.cli import app

ROOT = Path(__file__).resolve().parents[2]
SEED1 = ROOT / "examples" / "seed1-high-volume-haiku-vs-llama.yaml"
runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith(f"llm-tco {__version__} (genai-prices ")


def test_fit_exits_1_when_the_model_does_not_fit() -> None:
    # Llama 3.3 70B at bf16: 70.6B params x 2 bytes = 141 GB of weights, more than one 24 GB A10.
    result = runner.invoke(app, ["fit", "llama-3.3-70b", "a10", "--count", "1", "-f", "json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["fits"] is False
    # Llama 3.1 8B: 8.03B x 2 bytes = 16 GB, which one 80 GB H100 holds.
    result = runner.invoke(app, ["fit", "llama-3.1-8b", "h100-sxm-80gb", "-f", "json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["fits"] is True


def test_sweep_reads_the_files_sweep_list() -> None:
    result = runner.invoke(app, ["sweep", str(SEED1), "-f", "json"])
    assert result.exit_code == 0, result.output
    volumes = [row["tokens_per_month"] for row in json.loads(result.output)["sweep"]]
    # The example's own `sweep: [120M, 1.2B, 6B, 12B, 24B]`.
    assert volumes == [120e6, 1.2e9, 6e9, 12e9, 24e9]
    given = runner.invoke(app, ["sweep", str(SEED1), "--volumes", "1B,2B", "-f", "json"])
    assert [r["tokens_per_month"] for r in json.loads(given.output)["sweep"]] == [1e9, 2e9]


def test_bench_exits_1_when_no_request_succeeded() -> None:
    with socket.socket() as sock:  # a loopback port nothing listens on: every request fails
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = runner.invoke(
        app,
        ["bench", "--endpoint", f"http://127.0.0.1:{port}", "--model", "m", "--requests", "2"],
    )
    assert result.exit_code == 1
    assert "no request succeeded" in result.output


def test_bench_report_endpoint_renders_a_result() -> None:
    import support

    client = support.api_client()
    body = (ROOT / "tests" / "data" / "guidellm_0.8.1_concurrent4.json").read_bytes()
    json_type = {"content-type": "application/json"}
    page = client.post("/api/bench/report", content=body, headers=json_type)
    assert page.status_code == 200
    assert page.text.startswith("<!doctype html>") and "vegaEmbed" in page.text
    bad = client.post("/api/bench/report", content=b'{"neither": 1}', headers=json_type)
    assert bad.status_code == 422
    assert client.get("/bench").status_code == 200


def test_fail_if_not_cheapest_gates_a_saved_decision() -> None:
    """Scenario 1 of "Open Source LLMs as Cost Floor": Llama 3.3 70B on four A100s cannot carry
    10M requests x 1,200 tokens (the README's worked example: the capacity model needs twice
    that), so Haiku 4.5 is the cheapest option that can serve. Exit 0 when the named option is
    it, 1 when not, 2 (and nothing on stdout) for a name the scenario lacks."""
    evaluated = json.loads(runner.invoke(app, ["evaluate", str(SEED1), "-f", "json"]).stdout)
    llama = next(o for o in evaluated["options"] if o["name"] == "llama-3.3-70b")
    assert llama["feasible"] is False
    ok = runner.invoke(app, ["evaluate", str(SEED1), "--fail-if-not-cheapest", "claude-haiku-4.5"])
    assert ok.exit_code == 0, ok.output
    flip = runner.invoke(app, ["evaluate", str(SEED1), "--fail-if-not-cheapest", "llama-3.3-70b"])
    assert flip.exit_code == 1
    assert "llama-3.3-70b is not the cheapest option that can serve: claude-haiku-4.5" in (
        flip.stderr.replace("\n", " ")
    )
    bad = runner.invoke(app, ["evaluate", str(SEED1), "--fail-if-not-cheapest", "nosuch"])
    assert bad.exit_code == 2
    assert bad.stdout == ""
    assert "--fail-if-not-cheapest: no option named 'nosuch'" in bad.stderr.replace("\n", " ")
