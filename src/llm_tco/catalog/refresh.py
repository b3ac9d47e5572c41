"""Refresh GPU rental offers through ``gpuhunt`` into a local cache.

``gpuhunt`` publishes each cloud's instance catalog (price per hour of the whole instance, GPU
name, count and memory) as a CSV per provider. We read it - downloaded, or from local CSV files
in gpuhunt's format with ``--from-csv`` - map each GPU instance onto our GPU ids, and write the
rows to a cache file that :func:`llm_tco.catalog.loader.load_catalog` reads after the shipped
offers. The shipped ``offers.yaml`` is never written.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import socket
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from llm_tco.catalog.loader import DATA_DIR, read_offer_cache
from llm_tco.catalog.schema import RentalOffer
from llm_tco.errors import CatalogDataError, CatalogLookupError, LlmTcoError

# The providers whose catalogs gpuhunt publishes as files (its OFFLINE_PROVIDERS, 0.1.34). The
# others need API keys and live queries, which this command does not make.
GPUHUNT_PROVIDERS = (
    "aws",
    "azure",
    "verda",
    "gcp",
    "lambdalabs",
    "nebius",
    "oci",
    "runpod",
    "cloudrift",
)
# gpuhunt's provider name -> the name our catalog uses, so `offer: lambda` finds refreshed rows.
PROVIDER_NAMES = {"lambdalabs": "lambda"}

# (vendor, gpuhunt GPU name, memory GB) -> our GPU id, or form factor -> id where gpuhunt gives
# one name to both boards (it calls H100 SXM and H100 PCIe both "H100" at 80 GB).
GPU_IDS: dict[tuple[str, str, int], str | dict[str, str]] = {
    ("nvidia", "H100", 80): {"sxm": "h100-sxm-80gb", "pcie": "h100-pcie-80gb"},
    ("nvidia", "H100NVL", 94): "h100-nvl",
    ("nvidia", "H200", 141): "h200-sxm-141gb",
    ("nvidia", "B200", 180): "b200",
    ("nvidia", "A100", 80): {"sxm": "a100-80gb-sxm", "pcie": "a100-80gb-pcie"},
    ("nvidia", "A100", 40): {"sxm": "a100-40gb-sxm", "pcie": "a100-40gb-pcie"},
    ("nvidia", "A10", 24): "a10",
    ("nvidia", "A10G", 24): "a10g",
    ("nvidia", "L4", 24): "l4",
    ("nvidia", "L40S", 48): "l40s",
    ("nvidia", "RTX4090", 24): "rtx-4090",
    ("nvidia", "RTX4000Ada", 20): "rtx-4000-ada",
    ("amd", "MI300X", 192): "mi300x",
}

# The form factor, read from the instance name (and provider data) when gpuhunt's GPU name does
# not say. Lambda names its instances gpu_1x_h100_sxm5 / gpu_1x_h100_pcie; RunPod calls its SXM
# H100 "NVIDIA H100 80GB HBM3" (HBM3 is the SXM5 board's memory; the H100 PCIe carries HBM2e,
# per NVIDIA's H100 datasheet) and its A100s "NVIDIA A100-SXM4-80GB" / "NVIDIA A100 80GB PCIe".
# AWS P5 (H100, HBM3) and P4d/P4de (A100) instances are built on NVSwitch SXM boards.
FORM_FACTOR_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"pcie", "pcie"),
    (r"sxm", "sxm"),
    (r"h100[^,]*hbm3", "sxm"),
    (r"^p5[a-z]*\.", "sxm"),
    (r"^p4de?\.", "sxm"),
)


@dataclass
class RefreshResult:
    """What one refresh read, mapped, skipped and wrote."""

    providers: list[str]
    rows_read: int
    offers: list[RentalOffer]
    skipped: Counter[str] = field(default_factory=Counter)
    merged_locations: int = 0
    kept_from_cache: int = 0
    written: int = 0
    cache_path: Path | None = None
    gpuhunt_messages: list[str] = field(default_factory=list)


def default_as_of() -> dt.date:
    return dt.date.today()


# --- mapping --------------------------------------------------------------------------------
def offer_id(provider: str, instance: str, gpu_count: int, location: str, spot: bool) -> str:
    """``gpuhunt-<provider>-<instance>-x<count>-<location>-<spot|od>`` in the id alphabet.

    The GPU count is part of the id because RunPod sells 1 to 8 GPUs under one instance name.
    """
    raw = f"gpuhunt-{provider}-{instance}-x{gpu_count}-{location}-{'spot' if spot else 'od'}"
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9._-]+", "-", raw.lower())).strip("-._")


def form_factor(item: Any) -> str | None:
    text = f"{item.instance_name} {json.dumps(item.provider_data)}".lower()
    for pattern, form in FORM_FACTOR_PATTERNS:
        if re.search(pattern, text):
            return form
    return None


def gpu_id_for(item: Any) -> tuple[str | None, str]:
    """Our GPU id for a gpuhunt item, or None and the reason it was skipped."""
    if not item.gpu_count or not item.gpu_name:
        return None, "no GPU (CPU-only instance)"
    vendor = getattr(item.gpu_vendor, "value", item.gpu_vendor) or "nvidia"
    memory_gb = round(item.gpu_memory or 0)
    target = GPU_IDS.get((str(vendor), item.gpu_name, memory_gb))
    if target is None:
        return None, f"GPU not in our catalog: {vendor} {item.gpu_name} {memory_gb} GB"
    if isinstance(target, str):
        return target, ""
    form = form_factor(item)
    if form is None or form not in target:
        return None, f"form factor (SXM/PCIe) unknown: {item.gpu_name} {memory_gb} GB"
    return target[form], ""


def to_offer(item: Any, gpu_id: str, source: str, as_of: dt.date) -> RentalOffer:
    provider = PROVIDER_NAMES.get(item.provider, item.provider)
    notes = f"{item.cpu} vCPU, {item.memory:.0f} GB RAM"
    if item.flags:
        notes += f"; gpuhunt flags: {' '.join(item.flags)}"
    return RentalOffer(
        id=offer_id(provider, item.instance_name, item.gpu_count, item.location, item.spot),
        provider=provider,
        gpu=gpu_id,
        gpu_count=item.gpu_count,
        price=item.price,
        price_unit="hour",
        currency="USD",
        billing="spot" if item.spot else "on-demand",
        instance=item.instance_name,
        region=item.location,
        source=source,
        as_of=as_of,
        notes=notes,
    )


def map_items(
    items: Sequence[Any], sources: dict[str, str], as_of: dt.date
) -> tuple[list[RentalOffer], Counter[str]]:
    """Map gpuhunt items to offers; count the skipped ones by reason."""
    offers: list[RentalOffer] = []
    skipped: Counter[str] = Counter()
    for item in items:
        if not item.price or item.price <= 0:
            skipped["no price"] += 1
            continue
        gpu_id, reason = gpu_id_for(item)
        if gpu_id is None:
            skipped[reason] += 1
            continue
        offers.append(to_offer(item, gpu_id, sources[item.provider], as_of))
    return offers, skipped


def dedupe(offers: Sequence[RentalOffer], all_locations: bool) -> tuple[list[RentalOffer], int]:
    """One row per id (the cheapest); unless ``all_locations``, one row per instance, count and
    billing: the cheapest location, with the spread across locations in its notes.

    Rows are ordered by provider, GPU, count, billing and price, so among refreshed rows of the
    same date the catalog's offer lookup picks the cheapest.
    """
    by_key: dict[tuple[str, ...], list[RentalOffer]] = {}
    for offer in offers:
        key = (
            (offer.id,)
            if all_locations
            else (offer.provider, offer.instance or "", str(offer.gpu_count), offer.billing)
        )
        by_key.setdefault(key, []).append(offer)
    rows: list[RentalOffer] = []
    merged = 0
    for group in by_key.values():
        group.sort(key=lambda o: (o.price, o.region or ""))
        best = group[0]
        locations = sorted({o.region or "" for o in group})
        if len(locations) > 1:
            spread = f"cheapest of {len(locations)} locations, ${best.price:g}-${group[-1].price:g}"
            best = best.model_copy(update={"notes": f"{best.notes}; {spread}"})
        merged += len(group) - 1
        rows.append(best)
    rows.sort(key=lambda o: (o.provider, o.gpu, o.gpu_count, o.billing, o.price, o.id))
    return rows, merged


# --- gpuhunt --------------------------------------------------------------------------------
def _import_gpuhunt() -> Any:
    try:
        import gpuhunt
    except ImportError:
        raise LlmTcoError(
            "refreshing offers needs the optional package gpuhunt",
            hint="pip install 'llm-tco[offers]'",
        ) from None
    return gpuhunt


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _gpuhunt_session(csv_dir: Path | None) -> Iterator[_Collect]:
    """Point gpuhunt at local CSVs (or give downloads a timeout) and collect its log lines
    instead of letting them reach stderr as tracebacks."""
    logger = logging.getLogger("gpuhunt")
    collect = _Collect()
    saved = (os.environ.get("GPUHUNT_CATALOG_DIR"), logger.propagate, socket.getdefaulttimeout())
    logger.addHandler(collect)
    logger.propagate = False
    if csv_dir is not None:
        os.environ["GPUHUNT_CATALOG_DIR"] = str(csv_dir)
    else:
        os.environ.pop("GPUHUNT_CATALOG_DIR", None)
        socket.setdefaulttimeout(30)
    try:
        yield collect
    finally:
        logger.removeHandler(collect)
        logger.propagate = saved[1]
        socket.setdefaulttimeout(saved[2])
        if saved[0] is None:
            os.environ.pop("GPUHUNT_CATALOG_DIR", None)
        else:
            os.environ["GPUHUNT_CATALOG_DIR"] = saved[0]


def resolve_providers(names: Sequence[str] | None, csv_dir: Path | None) -> list[str]:
    """gpuhunt provider names from ours (``lambda`` -> ``lambdalabs``); by default every
    provider gpuhunt publishes, or with ``--from-csv`` every ``<provider>.csv`` in the folder."""
    ours = {v: k for k, v in PROVIDER_NAMES.items()}
    if names:
        providers = []
        for name in names:
            provider = ours.get(name.strip().lower(), name.strip().lower())
            if provider not in GPUHUNT_PROVIDERS:
                known = ", ".join(sorted({PROVIDER_NAMES.get(p, p) for p in GPUHUNT_PROVIDERS}))
                raise CatalogLookupError(
                    f"gpuhunt publishes no catalog for '{name}'", field="--provider", hint=known
                )
            providers.append(provider)
        return list(dict.fromkeys(providers))
    if csv_dir is None:
        return list(GPUHUNT_PROVIDERS)
    if not csv_dir.is_dir():
        raise CatalogDataError(f"{csv_dir} is not a folder", field="--from-csv")
    found = [p for p in GPUHUNT_PROVIDERS if (csv_dir / f"{p}.csv").is_file()]
    if not found:
        raise CatalogDataError(
            f"no gpuhunt catalog CSV in {csv_dir}",
            field="--from-csv",
            hint=f"expected files named <provider>.csv, e.g. {', '.join(GPUHUNT_PROVIDERS[:3])}",
        )
    return found


def fetch_items(
    providers: list[str], csv_dir: Path | None
) -> tuple[list[Any], dict[str, str], list[str]]:
    """gpuhunt's items for ``providers``, the source line per provider, and gpuhunt's warnings.

    With ``csv_dir`` gpuhunt reads ``<dir>/<provider>.csv`` and downloads nothing.
    """
    gpuhunt = _import_gpuhunt()
    version = metadata.version("gpuhunt")
    catalog = gpuhunt.Catalog(balance_resources=False, auto_reload=False)
    with _gpuhunt_session(csv_dir) as log:
        if csv_dir is None:
            try:
                catalog.load()
            except Exception as exc:
                cause = exc.__cause__ or exc
                raise CatalogDataError(
                    f"cannot download gpuhunt's offer catalogs ({getattr(cause, 'reason', cause)})",
                    hint="check the connection, or pass --from-csv DIR with gpuhunt CSV files",
                ) from None
        try:
            items = catalog.query(provider=providers)
        except OSError as exc:
            raise CatalogDataError(
                f"cannot read gpuhunt catalog: {exc}", field="--from-csv"
            ) from None
    sources = {}
    for provider in providers:
        if csv_dir is not None:
            sources[provider] = f"gpuhunt {version}, {provider} catalog (local CSV {provider}.csv)"
        else:
            loaded = catalog.catalog.get(provider)
            tag = f" {loaded.version}" if loaded is not None else ""
            sources[provider] = f"gpuhunt {version}, {provider} catalog{tag}"
            if loaded is None:
                log.messages.append(f"{provider}: catalog could not be downloaded")
    return list(items), sources, log.messages


# --- the cache ------------------------------------------------------------------------------
def check_cache_path(path: Path) -> None:
    """The cache may not be, or sit beside, the shipped catalog files."""
    if path.resolve().parent == DATA_DIR.resolve():
        raise CatalogDataError(
            "refusing to write refreshed offers into the shipped catalog",
            field=str(path),
            hint="set LLM_TCO_CACHE_DIR to another folder",
        )


def write_cache(path: Path, offers: Sequence[RentalOffer], note: str) -> None:
    """Write ``offers`` to ``path`` atomically: a temp file beside it, then a rename."""
    check_cache_path(path)
    # id first and the provenance last reads best.
    rows = [
        {
            "id": o.id,
            **o.model_dump(mode="json", exclude_none=True, exclude={"id", "source", "as_of"}),
        }
        | {"source": o.source, "as_of": o.as_of.isoformat()}
        for o in offers
    ]
    text = json.dumps({"note": note, "offers": rows}, indent=1, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".offers-", suffix=".json.tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _kept_rows(path: Path, refreshed_providers: set[str]) -> list[RentalOffer]:
    """Rows of an earlier refresh for providers not refreshed now (a broken cache is dropped)."""
    if not path.exists():
        return []
    try:
        rows = read_offer_cache(path)
    except CatalogDataError:
        return []
    return [row for row in rows if row.provider not in refreshed_providers]


def refresh_offers(
    provider_names: Sequence[str] | None,
    csv_dir: Path | None,
    cache_path: Path,
    *,
    dry_run: bool = False,
    all_locations: bool = False,
    as_of: dt.date | None = None,
) -> RefreshResult:
    """Read gpuhunt's catalogs, map them to offers and (unless ``dry_run``) write the cache."""
    check_cache_path(cache_path)
    providers = resolve_providers(provider_names, csv_dir)
    items, sources, messages = fetch_items(providers, csv_dir)
    fetched_on = as_of or default_as_of()
    mapped, skipped = map_items(items, sources, fetched_on)
    offers, merged = dedupe(mapped, all_locations)
    result = RefreshResult(
        providers=providers,
        rows_read=len(items),
        offers=offers,
        skipped=skipped,
        merged_locations=merged,
        cache_path=cache_path,
        gpuhunt_messages=messages,
    )
    ours = {PROVIDER_NAMES.get(p, p) for p in providers}
    kept = _kept_rows(cache_path, ours)
    result.kept_from_cache = len(kept)
    if not dry_run:
        note = (
            f"GPU rental offers refreshed through gpuhunt on {fetched_on.isoformat()} by "
            "`llm-tco catalog refresh-offers`. Rerun that command to update; do not edit."
        )
        write_cache(cache_path, kept + offers, note)
        result.written = len(kept) + len(offers)
    return result
