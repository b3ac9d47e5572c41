"""`llm-tco catalog refresh-offers` from gpuhunt's local-CSV mode: mapping, counts, the cache
file, the loader reading it, and the errors. Nothing here touches the network.

The expected figures are worked out by hand from tests/data/gpuhunt/*.csv (made-up prices, see
the README there) and the shipped offers.yaml rows named in each comment.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import sys
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llm_tco.catalog.loader import DATA_DIR, load_catalog, read_offer_cache, read_rows
from llm_tco.catalog.refresh import GPU_IDS, offer_id, refresh_offers
from llm_tco.catalog.refresh_report import price_changes
from llm_tco.catalog.schema import RentalOffer
from llm_tco.cli import app
from llm_tco.errors import CatalogDataError

gpuhunt = pytest.importorskip(
    "gpuhunt", reason='gpuhunt is not installed: pip install -e ".[offers]"'
)
REAL_LOAD = gpuhunt.Catalog.load

CSV_DIR = Path(__file__).resolve().parents[1] / "data" / "gpuhunt"
AS_OF = dt.date(2026, 12, 20)  # after every shipped row, as a refresh made today is
runner = CliRunner()


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any download attempt fails the test: local-CSV mode must not need one."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the network was used")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(gpuhunt.Catalog, "load", refuse)


def refresh(tmp_path: Path, **kwargs: object):
    return refresh_offers(
        kwargs.pop("providers", None),  # type: ignore[arg-type]
        CSV_DIR,
        tmp_path / "offers.json",
        as_of=AS_OF,
        **kwargs,  # type: ignore[arg-type]
    )


def test_counts(tmp_path: Path) -> None:
    result = refresh(tmp_path)
    assert result.providers == ["lambdalabs", "runpod"]
    # 7 lambdalabs rows + 8 runpod rows.
    assert result.rows_read == 15
    # Skipped: runpod's CPU row and A40, lambda's GH200 and gpu_1x_a100 (no SXM/PCIe in name).
    assert dict(result.skipped) == {
        "no GPU (CPU-only instance)": 1,
        "GPU not in our catalog: nvidia A40 48 GB": 1,
        "GPU not in our catalog: nvidia GH200 96 GB": 1,
        "form factor (SXM/PCIe) unknown: A100 40 GB": 1,
    }
    # 15 - 4 = 11 mapped; gpu_1x_h100_sxm5 (2 locations) and runpod's 1x H100 HBM3 on-demand
    # (US-TX-3, CA) each collapse to one row: 11 - 2 = 9.
    assert result.merged_locations == 2
    assert len(result.offers) == 9
    assert result.written == 9


def test_mapping(tmp_path: Path) -> None:
    offers = {o.id: o for o in refresh(tmp_path).offers}
    assert set(offers) == {
        "gpuhunt-lambda-gpu_1x_a10-x1-us-east-1-od",
        "gpuhunt-lambda-gpu_1x_h100_pcie-x1-us-west-3-od",
        "gpuhunt-lambda-gpu_1x_h100_sxm5-x1-us-east-1-od",
        "gpuhunt-lambda-gpu_8x_h100_sxm5-x8-us-east-1-od",
        "gpuhunt-runpod-nvidia-a100-sxm4-80gb-x1-us-ks-2-od",
        "gpuhunt-runpod-nvidia-h100-80gb-hbm3-x1-ca-od",
        "gpuhunt-runpod-nvidia-h100-80gb-hbm3-x1-us-tx-3-spot",
        "gpuhunt-runpod-nvidia-h100-80gb-hbm3-x2-us-tx-3-od",
        "gpuhunt-runpod-nvidia-h100-pcie-x1-eu-ro-1-od",
    }
    # "HBM3" marks RunPod's SXM H100; "PCIe" its PCIe one; both are gpuhunt's "H100", 80 GB.
    assert offers["gpuhunt-runpod-nvidia-h100-80gb-hbm3-x1-ca-od"].gpu == "h100-sxm-80gb"
    assert offers["gpuhunt-runpod-nvidia-h100-pcie-x1-eu-ro-1-od"].gpu == "h100-pcie-80gb"
    assert offers["gpuhunt-runpod-nvidia-a100-sxm4-80gb-x1-us-ks-2-od"].gpu == "a100-80gb-sxm"
    assert offers["gpuhunt-lambda-gpu_1x_h100_pcie-x1-us-west-3-od"].gpu == "h100-pcie-80gb"
    spot = offers["gpuhunt-runpod-nvidia-h100-80gb-hbm3-x1-us-tx-3-spot"]
    assert (spot.billing, spot.price) == ("spot", 1.75)
    eight = offers["gpuhunt-lambda-gpu_8x_h100_sxm5-x8-us-east-1-od"]
    assert (eight.gpu_count, eight.price, eight.price_unit) == (8, 23.92, "hour")
    # The cheaper location of the two is kept: CA $2.39 over US-TX-3 $2.69.
    kept = offers["gpuhunt-runpod-nvidia-h100-80gb-hbm3-x1-ca-od"]
    assert (kept.price, kept.region) == (2.39, "CA")
    assert "cheapest of 2 locations, $2.39-$2.69" in (kept.notes or "")


def test_all_locations_keeps_every_row(tmp_path: Path) -> None:
    assert len(refresh(tmp_path, all_locations=True).offers) == 11


def test_cache_file(tmp_path: Path) -> None:
    refresh(tmp_path)
    path = tmp_path / "offers.json"
    raw = json.loads(path.read_text())
    assert raw["note"].startswith("GPU rental offers refreshed through gpuhunt on 2026-12-20")
    assert next(iter(raw["offers"][0])) == "id"
    assert not list(tmp_path.glob(".offers-*")), "the temp file was renamed away"
    rows = read_offer_cache(path)
    assert len(rows) == 9
    version = metadata.version("gpuhunt")
    for row in rows:
        assert row.as_of == AS_OF
        assert row.currency == "USD"
        assert row.source.startswith(f"gpuhunt {version}, ")
    by_id = {r.id: r for r in rows}
    runpod = by_id["gpuhunt-runpod-nvidia-h100-80gb-hbm3-x1-ca-od"]
    assert runpod.source == f"gpuhunt {version}, runpod catalog (local CSV runpod.csv)"
    assert runpod.provider == "runpod"
    # gpuhunt's "lambdalabs" is our "lambda", so `offer: lambda` finds these rows.
    assert by_id["gpuhunt-lambda-gpu_1x_a10-x1-us-east-1-od"].provider == "lambda"


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    result = refresh(tmp_path / "sub", dry_run=True)
    assert len(result.offers) == 9
    assert result.written == 0
    assert not (tmp_path / "sub").exists()


def test_loader_reads_cache_after_shipped(tmp_path: Path) -> None:
    refresh(tmp_path)
    shipped = load_catalog(offers_cache=tmp_path / "missing.json")
    both = load_catalog(offers_cache=tmp_path / "offers.json")
    assert len(both.offers) == len(shipped.offers) + 9
    assert both.offers[: len(shipped.offers)] == shipped.offers
    # Without the cache: the newest on-demand 1-GPU RunPod H100 row, Secure Cloud $3.99 read
    # 2026-11-09 (listed before the Community Cloud row of the same date).
    assert shipped.offer("runpod", "h100-sxm-80gb").id == "runpod-h100-sxm-80gb-2026-11"
    # The refresh below is dated after every shipped row, as a refresh made today is.
    assert max(o.as_of for o in shipped.offers) < AS_OF
    # With it: the refreshed rows are newer; of them the cheapest 1-GPU on-demand one, $2.39
    # (not the $1.75 spot row, not the 2-GPU row).
    picked = both.offer("runpod", "h100-sxm-80gb")
    assert (picked.id, picked.price, picked.as_of) == (
        "gpuhunt-runpod-nvidia-h100-80gb-hbm3-x1-ca-od",
        2.39,
        AS_OF,
    )
    assert both.offer("lambda", "h100-sxm-80gb").price == 3.29
    # A shipped offer id still resolves to the shipped row.
    assert both.offer("runpod-h100-sxm-80gb", "h100-sxm-80gb").price == 2.49


def test_loader_sees_a_rewritten_cache(tmp_path: Path) -> None:
    path = tmp_path / "offers.json"
    refresh(tmp_path, providers=["runpod"])
    # Shipped: lambda-a10, lambda-a10-2026-05 and lambda-a10-2026-12; the refresh adds
    # gpu_1x_a10 only with lambda.
    assert len(load_catalog(offers_cache=path).offers_for("a10", "lambda")) == 3
    refresh(tmp_path)
    assert len(load_catalog(offers_cache=path).offers_for("a10", "lambda")) == 4


def test_provider_refresh_keeps_other_providers(tmp_path: Path) -> None:
    refresh(tmp_path)
    result = refresh(tmp_path, providers=["runpod"])
    # The 4 lambda rows stay; the 5 runpod rows are replaced.
    assert (result.kept_from_cache, len(result.offers), result.written) == (4, 5, 9)


def test_duplicate_cached_id_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "offers.json"
    shipped = read_rows(DATA_DIR / "offers.yaml", RentalOffer)[0]
    path.write_text(json.dumps({"offers": [shipped.model_dump(mode="json")]}))
    with pytest.raises(CatalogDataError, match="repeats"):
        load_catalog(offers_cache=path)


def test_price_changes(tmp_path: Path) -> None:
    shipped = read_rows(DATA_DIR / "offers.yaml", RentalOffer)
    changes = {(c.provider, c.gpu): c for c in price_changes(shipped, refresh(tmp_path).offers)}
    # The spot row has no shipped counterpart.
    assert set(changes) == {
        ("lambda", "a10"),
        ("lambda", "h100-pcie-80gb"),
        ("lambda", "h100-sxm-80gb"),
        ("runpod", "a100-80gb-sxm"),
        ("runpod", "h100-pcie-80gb"),
        ("runpod", "h100-sxm-80gb"),
    }
    # Shipped: the newest Lambda H100 SXM rows are dated 2026-12-01, 2x at 8.38 and 4x at
    # 16.36; fewest GPUs first: 8.38 / 2 = 4.19 per GPU-hour. Refreshed per GPU-hour: 8x at
    # 23.92 / 8 = 2.99, 1x at 3.29.
    lam = changes[("lambda", "h100-sxm-80gb")]
    assert lam.shipped_id == "lambda-h100-sxm-80gb-x2-2026-12"
    assert lam.shipped_usd_per_gpu_hour == pytest.approx(4.19)
    assert lam.refreshed_min_usd_per_gpu_hour == pytest.approx(2.99)
    assert lam.refreshed_max_usd_per_gpu_hour == 3.29
    # Shipped runpod-h100-sxm-80gb-2026-11, Secure Cloud $3.99 (2026-11-09, before the
    # Community Cloud row of that date); refreshed 2.39 (1x) .. 5.38 / 2 = 2.69.
    run = changes[("runpod", "h100-sxm-80gb")]
    assert run.shipped_usd_per_gpu_hour == 3.99
    assert run.refreshed_max_usd_per_gpu_hour == pytest.approx(2.69)
    assert run.change_share == pytest.approx(2.39 / 3.99 - 1)


def test_offer_ids_fit_the_id_pattern() -> None:
    assert offer_id("aws", "p5.48xlarge", 8, "us-east-1", True) == (
        "gpuhunt-aws-p5.48xlarge-x8-us-east-1-spot"
    )
    assert offer_id("azure", "Standard_NC24ads_A100_v4", 1, "East US", False) == (
        "gpuhunt-azure-standard_nc24ads_a100_v4-x1-east-us-od"
    )


def test_every_mapped_gpu_is_in_the_catalog() -> None:
    gpus = {g.id for g in load_catalog().gpus}
    for target in GPU_IDS.values():
        ids = [target] if isinstance(target, str) else list(target.values())
        assert set(ids) <= gpus


# --- the command ------------------------------------------------------------------------------
def invoke(tmp_path: Path, *args: str):
    env = {"LLM_TCO_CACHE_DIR": str(tmp_path), "COLUMNS": "200"}
    return runner.invoke(app, ["catalog", *args], env=env)


def test_cli_refresh_then_list(tmp_path: Path) -> None:
    day_before = dt.date.today()  # the refresh dates its offers today: a run may pass midnight
    result = invoke(tmp_path, "refresh-offers", "--from-csv", str(CSV_DIR))
    assert result.exit_code == 0, result.output
    assert "rows read from gpuhunt: 15" in result.stdout
    assert "mapped to catalog GPUs: 11" in result.stdout
    assert "written: 9 offers" in result.stdout
    assert "-40%" in result.stdout  # runpod H100 SXM: 2.39 vs 3.99
    listed = invoke(tmp_path, "offers", "--search", "gpuhunt", "--format", "json")
    assert listed.exit_code == 0, listed.output
    days = {day_before, dt.date.today()}
    assert any(f'"as_of": "{day.isoformat()}"' in listed.stdout for day in days), days


def test_cli_dry_run(tmp_path: Path) -> None:
    result = invoke(tmp_path, "refresh-offers", "--from-csv", str(CSV_DIR), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run: nothing written" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_the_shipped_catalog(tmp_path: Path) -> None:
    before = (DATA_DIR / "offers.yaml").read_bytes()
    env = {"LLM_TCO_CACHE_DIR": str(DATA_DIR)}
    args = ["catalog", "refresh-offers", "--from-csv", str(CSV_DIR)]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 2
    assert "refusing to write" in result.output
    assert (DATA_DIR / "offers.yaml").read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--provider", "nosuch"], "--provider: gpuhunt publishes no catalog for 'nosuch'"),
        (["--provider", "aws", "--from-csv", str(CSV_DIR)], "no such file"),
        (["--from-csv", "/nonexistent-folder"], "--from-csv: /nonexistent-folder is not a folder"),
    ],
)
def test_cli_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = invoke(tmp_path, "refresh-offers", *args)
    assert result.exit_code == 2
    assert message.lower() in result.output.lower()
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_cli_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("no route to host")

    # gpuhunt's own download path, with every request answered "offline".
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setattr(gpuhunt.Catalog, "load", REAL_LOAD)
    result = invoke(tmp_path, "refresh-offers")
    assert result.exit_code == 2
    assert "cannot download" in result.output
    assert "--from-csv" in result.output


def test_cli_without_gpuhunt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gpuhunt", None)
    result = invoke(tmp_path, "refresh-offers", "--from-csv", str(CSV_DIR))
    assert result.exit_code == 2
    assert "pip install 'llm-tco[offers]'" in result.output
