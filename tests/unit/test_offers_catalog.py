"""The shipped GPU rental offers: every row sourced and dated, the coverage the catalog promises,
figures checked by hand against their sources, and the `catalog offers` filters."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from typer.testing import CliRunner

from llm_tco.catalog import load_catalog
from llm_tco.catalog.loader import DATA_DIR, read_rows
from llm_tco.catalog.schema import RentalOffer
from llm_tco.cli import app

SHIPPED = read_rows(DATA_DIR / "offers.yaml", RentalOffer)
BY_ID = {o.id: o for o in SHIPPED}
# The newest date a shipped row may carry: the day the undated catalogue copies were read.
READ_ON = dt.date(2026, 12, 1)
# A source names a URL or a quoted title (articles are cited by title, as "as quoted in").
CITES = re.compile(r"https?://|\"[^\"]{8,}\"")


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


def test_at_least_120_offers_each_with_source_and_date() -> None:
    assert len(SHIPPED) >= 120
    for offer in SHIPPED:
        assert CITES.search(offer.source), offer.id
        assert dt.date(2025, 1, 1) <= offer.as_of <= READ_ON, offer.id
    assert len(BY_ID) == len(SHIPPED), "offer ids repeat"


def test_the_listing_shows_every_shipped_offer() -> None:
    listed = json.loads(invoke("catalog", "offers", "-f", "json").stdout)
    assert len(listed) >= 120
    assert {row["id"] for row in listed} >= set(BY_ID)
    assert all(row["source"] and row["as_of"] for row in listed)


def test_coverage_of_clouds_billing_and_gpus() -> None:
    providers = {o.provider for o in SHIPPED}
    hyperscalers = {"aws", "gcp", "azure"}
    neoclouds = {"coreweave", "lambda", "nebius", "crusoe", "hyperstack", "verda", "oci"}
    marketplaces = {"vast", "runpod", "akash"}
    assert hyperscalers | neoclouds | marketplaces <= providers
    billing = {(o.provider, o.billing) for o in SHIPPED}
    for cloud in hyperscalers:
        assert (cloud, "on-demand") in billing, cloud
    assert {
        ("aws", "spot"),
        ("gcp", "spot"),
        ("gcp", "reserved-1y"),
        ("gcp", "reserved-3y"),
    } <= billing
    gpus = {o.gpu for o in SHIPPED}
    wanted = {"a10g", "l4", "l40s", "a100-40gb-sxm", "a100-80gb-sxm", "a100-80gb-pcie"}
    wanted |= {"h100-sxm-80gb", "h100-pcie-80gb", "h100-nvl", "h200-sxm-141gb", "b200", "mi300x"}
    assert wanted <= gpus
    # Every offer names a GPU the catalog has datasheet figures for.
    assert gpus <= {g.id for g in load_catalog().gpus}


def test_spot_and_commitments_undercut_on_demand_for_the_same_instance() -> None:
    on_demand = {
        (o.provider, o.instance, o.gpu_count, o.as_of): o.price_per_gpu
        for o in SHIPPED
        if o.billing == "on-demand" and o.instance
    }
    compared = 0
    for o in SHIPPED:
        if o.billing in ("spot", "reserved-1y", "reserved-3y"):
            key = (o.provider, o.instance, o.gpu_count, o.as_of)
            if key in on_demand:
                assert o.price_per_gpu < on_demand[key], o.id
                compared += 1
    assert compared >= 15


@pytest.mark.parametrize(
    ("offer_id", "instance_usd_per_hour", "gpus", "why"),
    [
        # AWS p5.48xlarge, us-east-1: $55.04 for 8x H100 = $6.88 per GPU-hour, the per-GPU
        # figure datareceipts' hyperscalers.json (retrieved 2026-11-09) lists next to it.
        ("aws-p5.48xlarge", 55.04, 8, 6.88),
        # Azure ND96isr_H100_v5: the source gives $12.29 per GPU-hour; 8 x 12.29 = 98.32.
        ("azure-nd96isr-h100-v5", 8 * 12.29, 8, 12.29),
        # CoreWeave HGX H100 page price, 8 GPUs: $49.24 / 8 = $6.155 per GPU-hour.
        ("coreweave-h100-x8", 49.24, 8, 6.155),
        # Lambda 8x H100 SXM at $3.99 per GPU-hour (silybench, 2026-09-25): 8 x 3.99 = 31.92.
        ("lambda-h100-sxm-80gb-x8", 31.92, 8, 3.99),
        # Nebius 8-GPU H200 preset, $28.00: 28 / 8 = $3.50, the one-GPU price Nebius' billing
        # note gives from 2025-10-22.
        ("nebius-h200-x8", 28.0, 8, 3.5),
    ],
)
def test_instance_and_per_gpu_figures_match_their_sources(
    offer_id: str, instance_usd_per_hour: float, gpus: int, why: float
) -> None:
    offer = BY_ID[offer_id]
    assert offer.price == pytest.approx(instance_usd_per_hour)
    assert offer.gpu_count == gpus
    assert offer.price_per_gpu == pytest.approx(why)


def test_gcp_commitments_are_the_files_monthly_figures_per_hour() -> None:
    # Cyclenerd pricing.yml (generated 2025-03-06), a3-highgpu-1g us-central1: month 8074.71249111
    # = hour 11.0612499878219 x 730; month_1y 5601.26008308 and month_3y 3546.37477674.
    hourly = 11.0612499878219
    assert pytest.approx(8074.71249111) == hourly * 730
    assert BY_ID["gcp-a3-highgpu-1g"].price == pytest.approx(hourly, rel=1e-6)
    one_year = BY_ID["gcp-a3-highgpu-1g-1y"].price
    three_years = BY_ID["gcp-a3-highgpu-1g-3y"].price
    assert one_year == pytest.approx(5601.26008308 / 730, rel=1e-6)
    assert three_years == pytest.approx(3546.37477674 / 730, rel=1e-6)
    # 1-year commitment ~31% off on-demand, 3-year ~56% off: 1 - 7.673 / 11.061, 1 - 4.858 / 11.061.
    assert 1 - one_year / hourly == pytest.approx(0.306, abs=0.001)
    assert 1 - three_years / hourly == pytest.approx(0.561, abs=0.001)
    # g2-standard-4 (one L4), same file: hour 0.706832255 (x 730 = month 515.98754615),
    # month_1y 325.07215214 and month_3y 232.19438719: 0.4453 and 0.3181 per hour.
    assert BY_ID["gcp-g2-standard-4"].price == pytest.approx(515.98754615 / 730, rel=1e-6)
    assert BY_ID["gcp-g2-standard-4-1y"].price == pytest.approx(0.4453, abs=1e-4)
    assert BY_ID["gcp-g2-standard-4-3y"].price == pytest.approx(0.3181, abs=1e-4)


def test_a_price_change_is_a_new_dated_row() -> None:
    # RunPod Secure Cloud H100 SXM per GPU-hour: $2.50 (January 2026 article), $2.49 (April
    # 2026 article), $3.29 (2026-08-19),
    # $3.49 (2026-09-25), $3.99 (2026-11-09); each is its own row with its own date.
    history = sorted(
        (o.as_of, o.price)
        for o in SHIPPED
        if o.provider == "runpod"
        and o.gpu == "h100-sxm-80gb"
        and o.gpu_count == 1
        and o.instance != "Community Cloud"
    )
    assert [p for _, p in history] == [2.5, 2.49, 3.29, 3.49, 3.99]
    assert len({d for d, _ in history}) == len(history)


def test_filters_by_gpu_family_provider_and_billing() -> None:
    rows = json.loads(
        invoke("catalog", "offers", "--gpu", "h100", "--billing", "spot", "-f", "json").stdout
    )
    assert rows and all(r["billing"] == "spot" for r in rows)
    assert {r["gpu"] for r in rows} <= {"h100-sxm-80gb", "h100-pcie-80gb", "h100-nvl"}
    # A family name means the family: h200 is not gh200.
    h200 = json.loads(invoke("catalog", "offers", "--gpu", "h200", "-f", "json").stdout)
    assert {r["gpu"] for r in h200} == {"h200-sxm-141gb"}
    aws = json.loads(invoke("catalog", "offers", "--provider", "AWS", "-f", "json").stdout)
    assert aws and {r["provider"] for r in aws} == {"aws"}
    csv = invoke("catalog", "offers", "--provider", "gcp", "--billing", "reserved-3y", "-f", "csv")
    lines = csv.stdout.strip().splitlines()
    assert len(lines) == 4 and lines[0].startswith("source,as_of,id,")  # header + a2, a3, g2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--provider", "awz"], "did you mean aws"),
        (["--billing", "weekly"], "one of: on-demand, spot"),
        (["--gpu", "zz9"], "no offers for GPU 'zz9'"),
    ],
)
def test_a_filter_that_matches_nothing_says_what_exists(args: list[str], message: str) -> None:
    result = invoke("catalog", "offers", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_markdown_listing_has_unit_and_per_gpu_columns() -> None:
    text = invoke("catalog", "offers", "--provider", "coreweave", "-f", "markdown").stdout
    assert "| unit |" in text and "per GPU" in text
    assert "| coreweave-h100-x8 | coreweave | h100-sxm-80gb | 8 | 49.24 | USD/h | 6.155 |" in text
