"""`llm-tco catalog refresh-prices`, offline: a mocked transport and a local file stand in for
genai-prices' published data (the same JSON shape as its ``prices/new_data/v2/data.json``)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

import support
from llm_tco.catalog import price_refresh
from llm_tco.catalog.loader import load_catalog
from llm_tco.cli import app
from llm_tco.errors import CatalogDataError, LlmTcoError

published = support.genai_price_data


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LLM_TCO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def serving(body: bytes, status: int = 200) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, content=body))


def test_refresh_saves_the_data_and_lookups_use_it(cache: Path):
    assert price_refresh.data_status().in_use == "bundled"
    body = json.dumps(published(0.5, 0.75)).encode()
    refresh = price_refresh.refresh_prices(transport=serving(body))
    assert refresh.written and refresh.providers == 1 and refresh.models == 1
    status = refresh.status
    assert status.in_use == "refreshed" and status.date == refresh.fetched_on
    assert status.url == price_refresh.DEFAULT_URL
    quote = load_catalog().api_price("deepseek-v3.2")
    assert (quote.input_per_mtok, quote.output_per_mtok) == (0.5, 0.75)
    assert "refreshed" in quote.source
    change = next(c for c in refresh.changes if c.model == "deepseek-v3.2")
    assert (change.new_input_per_mtok, change.new_output_per_mtok) == (0.5, 0.75)


def test_failed_download_keeps_the_shipped_snapshot(cache: Path):
    with pytest.raises(LlmTcoError, match="could not fetch"):
        price_refresh.refresh_prices(transport=serving(b"", status=503))
    assert price_refresh.saved_data_file() is None
    assert price_refresh.data_status().in_use == "bundled"


@pytest.mark.parametrize("body", [b"not json", b"{}", json.dumps([{"id": 3}]).encode()])
def test_data_that_is_not_genai_prices_is_refused(cache: Path, body: bytes):
    with pytest.raises(CatalogDataError):
        price_refresh.refresh_prices(transport=serving(body))
    assert price_refresh.saved_data_file() is None


def test_dry_run_and_from_file_through_the_cli(cache: Path, tmp_path: Path):
    data = tmp_path / "data.json"
    data.write_text(json.dumps(published(0.5, 0.75)))
    runner = CliRunner()
    dry = runner.invoke(app, ["catalog", "refresh-prices", "--from-file", str(data), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.output and price_refresh.saved_data_file() is None
    done = runner.invoke(app, ["catalog", "refresh-prices", "--from-file", str(data), "-f", "json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["status"]["in_use"] == "refreshed"
    status = runner.invoke(app, ["catalog", "refresh-prices", "--status"])
    assert "refreshed" in status.output and str(data) in status.output
