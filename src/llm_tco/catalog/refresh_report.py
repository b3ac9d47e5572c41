"""What `llm-tco catalog refresh-offers` prints: counts, and shipped vs refreshed prices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from llm_tco.catalog.loader import DATA_DIR, offers_cache_path, read_rows
from llm_tco.catalog.refresh import RefreshResult, refresh_offers
from llm_tco.catalog.schema import RentalOffer


@dataclass(frozen=True)
class PriceChange:
    """One (provider, GPU) priced both in the shipped catalog and in the refresh, per GPU-hour."""

    provider: str
    gpu: str
    shipped_usd_per_gpu_hour: float
    shipped_as_of: str
    shipped_id: str
    refreshed_min_usd_per_gpu_hour: float
    refreshed_max_usd_per_gpu_hour: float
    refreshed_id: str

    @property
    def change_share(self) -> float:
        """Cheapest refreshed price relative to the shipped one (-0.1 = 10% cheaper now)."""
        return self.refreshed_min_usd_per_gpu_hour / self.shipped_usd_per_gpu_hour - 1


def _hourly_on_demand(offers: Sequence[RentalOffer]) -> list[RentalOffer]:
    return [
        o
        for o in offers
        if o.billing == "on-demand" and o.price_unit == "hour" and o.currency == "USD"
    ]


def price_changes(
    shipped: Sequence[RentalOffer], refreshed: Sequence[RentalOffer]
) -> list[PriceChange]:
    """Shipped vs refreshed on-demand USD prices per GPU-hour (price / gpu_count).

    The shipped side is the newest row for the (provider, GPU), fewest GPUs first on a tie of
    date; the refreshed side is the cheapest and dearest refreshed row.
    """
    newest: dict[tuple[str, str], RentalOffer] = {}
    for offer in _hourly_on_demand(shipped):
        key = (offer.provider, offer.gpu)
        held = newest.get(key)
        if held is None or (-offer.as_of.toordinal(), offer.gpu_count) < (
            -held.as_of.toordinal(),
            held.gpu_count,
        ):
            newest[key] = offer
    fresh: dict[tuple[str, str], list[RentalOffer]] = {}
    for offer in _hourly_on_demand(refreshed):
        fresh.setdefault((offer.provider, offer.gpu), []).append(offer)
    changes = []
    for key in sorted(newest.keys() & fresh.keys()):
        old = newest[key]
        rows = sorted(fresh[key], key=lambda o: o.price / o.gpu_count)
        changes.append(
            PriceChange(
                provider=key[0],
                gpu=key[1],
                shipped_usd_per_gpu_hour=old.price / old.gpu_count,
                shipped_as_of=old.as_of.isoformat(),
                shipped_id=old.id,
                refreshed_min_usd_per_gpu_hour=rows[0].price / rows[0].gpu_count,
                refreshed_max_usd_per_gpu_hour=rows[-1].price / rows[-1].gpu_count,
                refreshed_id=rows[0].id,
            )
        )
    return changes


def render(
    result: RefreshResult, changes: Sequence[PriceChange], dry_run: bool, console: Console
) -> None:
    """The summary (rows read, mapped, skipped by reason, written) and the price table."""
    say = console.print
    mapped = sum(1 for _ in result.offers) + result.merged_locations
    say(f"providers: {', '.join(result.providers)}", markup=False)
    say(f"rows read from gpuhunt: {result.rows_read}", markup=False)
    say(f"mapped to catalog GPUs: {mapped}", markup=False)
    say(f"skipped: {sum(result.skipped.values())}", markup=False)
    for reason, count in result.skipped.most_common():
        say(f"  {count:>6}  {reason}", markup=False)
    if result.merged_locations:
        say(
            f"same instance in other locations (cheapest kept): {result.merged_locations}",
            markup=False,
        )
    say(f"offers refreshed: {len(result.offers)}", markup=False)
    for message in result.gpuhunt_messages[:5]:
        say(f"gpuhunt: {message}", markup=False)
    if dry_run:
        say(f"dry run: nothing written (cache: {result.cache_path})", markup=False)
    else:
        kept = (
            f", {result.kept_from_cache} kept from other providers"
            if result.kept_from_cache
            else ""
        )
        say(f"written: {result.written} offers to {result.cache_path}{kept}", markup=False)
    if not changes:
        say("no (provider, GPU) in both the shipped catalog and this refresh", markup=False)
        return
    table = Table(
        title="shipped vs refreshed on-demand price, USD per GPU-hour", title_justify="left"
    )
    for header in ("provider", "gpu", "shipped", "as of", "refreshed min", "max", "change"):
        table.add_column(header, no_wrap=True)
    for change in changes:
        table.add_row(
            change.provider,
            change.gpu,
            f"{change.shipped_usd_per_gpu_hour:.2f}",
            change.shipped_as_of,
            f"{change.refreshed_min_usd_per_gpu_hour:.2f}",
            f"{change.refreshed_max_usd_per_gpu_hour:.2f}",
            f"{change.change_share:+.0%}",
        )
    console.print(table)


def run_refresh(
    providers: Sequence[str] | None,
    csv_dir: Path | None,
    dry_run: bool,
    all_locations: bool,
    console: Console,
) -> RefreshResult:
    """Refresh into the cache the environment names, then print the summary and the prices."""
    cache = offers_cache_path()
    result = refresh_offers(providers, csv_dir, cache, dry_run=dry_run, all_locations=all_locations)
    shipped = read_rows(DATA_DIR / "offers.yaml", RentalOffer)
    render(result, price_changes(shipped, result.offers), dry_run, console)
    return result
