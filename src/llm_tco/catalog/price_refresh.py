"""`llm-tco catalog refresh-prices`: a newer copy of genai-prices' published price data.

genai-prices publishes its whole price table as one JSON file (the file its own
``UpdatePrices`` background task fetches, :data:`DEFAULT_URL`). We download it with httpx,
validate it with genai-prices' own parser, and save it in the cache folder next to a small
note of where and when it came from. Price look-ups then read the saved copy; without one (or
when it cannot be read) they read the snapshot bundled with the installed package. The shipped
data is never overwritten, so deleting the cache file goes back to it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from llm_tco.cache import cache_dir
from llm_tco.errors import CatalogDataError, LlmTcoError

# genai-prices' own update URL (``genai_prices.update_prices.DEFAULT_UPDATE_URL``).
DEFAULT_URL = (
    "https://raw.githubusercontent.com/pydantic/genai-prices/refs/heads/main/prices/new_data/"
    "v2/data.json"
)
MAX_BYTES = 32 * 1024 * 1024  # the published file is ~0.4 MB
TIMEOUT_S = 30.0
DATA_NAME = "genai-prices.json"
NOTE_NAME = "genai-prices.note.json"


def saved_data_path() -> Path:
    return cache_dir() / DATA_NAME


def saved_data_file() -> Path | None:
    """The saved refreshed data, if there is a readable one."""
    path = saved_data_path()
    return path if path.is_file() else None


def _note(path: Path) -> dict[str, Any]:
    try:
        data = json.loads((path.parent / NOTE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def saved_on(path: Path) -> dt.date:
    """The day the saved data was fetched (its note, else the file's modification time)."""
    fetched = _note(path).get("fetched_on")
    try:
        return dt.date.fromisoformat(str(fetched))
    except ValueError:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC).date()


def _providers(raw: Any, origin: str) -> list[Any]:
    """genai-prices' providers from the published JSON, validated by genai-prices itself."""
    from genai_prices.types import _providers_from_raw

    if not isinstance(raw, list) or not raw:
        raise CatalogDataError(f"{origin}: expected a JSON list of providers")
    try:
        return list(_providers_from_raw(raw))
    except (ValueError, TypeError) as exc:
        message = str(exc).splitlines()[0][:200]
        raise CatalogDataError(f"{origin}: not genai-prices data ({message})") from None


@functools.lru_cache(maxsize=4)
def _read(path: Path, stamp: tuple[int, int]) -> Any:
    from genai_prices.data_snapshot import DataSnapshot

    raw = json.loads(path.read_bytes())
    return DataSnapshot(providers=_providers(raw, str(path)), from_auto_update=True)


def read_snapshot(path: Path) -> Any:
    """The saved data as a genai-prices ``DataSnapshot``; the bundled one if it is unreadable."""
    try:
        stat = path.stat()
        return _read(path, (stat.st_mtime_ns, stat.st_size))
    except (OSError, ValueError, CatalogDataError):
        from genai_prices import data_snapshot

        return data_snapshot.get_snapshot()


class PriceChange(BaseModel):
    """One model whose input or output price differs between the old and the new data."""

    model_config = ConfigDict(extra="forbid")

    provider: str
    model: str
    old_input_per_mtok: float | None
    old_output_per_mtok: float | None
    new_input_per_mtok: float | None
    new_output_per_mtok: float | None


class PriceDataStatus(BaseModel):
    """Which price data look-ups use, and its date."""

    model_config = ConfigDict(extra="forbid")

    in_use: str  # "refreshed" or "bundled"
    label: str
    date: dt.date | None
    path: str | None = None
    url: str | None = None


class PriceRefresh(BaseModel):
    """What one refresh read and what it changed."""

    model_config = ConfigDict(extra="forbid")

    url: str
    fetched_on: dt.date
    providers: int
    models: int
    written: bool
    changes: list[PriceChange]
    status: PriceDataStatus


def data_status() -> PriceDataStatus:
    from llm_tco.catalog.prices import GenaiPriceIndex

    path = saved_data_file()
    index = GenaiPriceIndex(path)
    if path is not None:
        return PriceDataStatus(
            in_use="refreshed",
            label=index.label,
            date=saved_on(path),
            path=str(path),
            url=_note(path).get("url"),
        )
    return PriceDataStatus(in_use="bundled", label=index.label, date=index.data_date)


def _table(providers: list[Any]) -> dict[tuple[str, str], tuple[float | None, float | None]]:
    from llm_tco.catalog.prices import _current_prices, _number

    today = dt.date.today()
    table = {}
    for provider in providers:
        for model in provider.models:
            prices = _current_prices(model, today)[0]
            table[(provider.id, model.id)] = (
                _number(getattr(prices, "input_mtok", None)),
                _number(getattr(prices, "output_mtok", None)),
            )
    return table


def _changes(old: list[Any], new: list[Any]) -> list[PriceChange]:
    before, after = _table(old), _table(new)
    changes = []
    for key in sorted(set(before) | set(after)):
        was, now = before.get(key, (None, None)), after.get(key, (None, None))
        if was != now:
            changes.append(
                PriceChange(
                    provider=key[0],
                    model=key[1],
                    old_input_per_mtok=was[0],
                    old_output_per_mtok=was[1],
                    new_input_per_mtok=now[0],
                    new_output_per_mtok=now[1],
                )
            )
    return changes


def _download(url: str, transport: httpx.BaseTransport | None) -> bytes:
    try:
        client = httpx.Client(transport=transport, timeout=TIMEOUT_S, follow_redirects=True)
        with client, client.stream("GET", url) as response:
            response.raise_for_status()
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise LlmTcoError(
                        f"{url} is over {MAX_BYTES // 1024 // 1024} MB", field="--url"
                    )
            return bytes(body)
    except httpx.HTTPError as exc:
        raise LlmTcoError(
            f"could not fetch {url}: {exc}",
            field="--url",
            hint="check the connection, or pass --from-file with a downloaded data.json; "
            "the shipped prices stay in use",
        ) from None


def _write(path: Path, body: bytes, note: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, data in ((path, body), (path.parent / NOTE_NAME, json.dumps(note).encode())):
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, target)


def refresh_prices(
    url: str = DEFAULT_URL,
    from_file: Path | None = None,
    dry_run: bool = False,
    transport: httpx.BaseTransport | None = None,
    today: dt.date | None = None,
) -> PriceRefresh:
    """Fetch (or read ``from_file``) genai-prices' data, validate it, save it unless
    ``dry_run``, and list the models whose price changed against the data in use before."""
    from llm_tco.catalog.prices import GenaiPriceIndex

    origin = str(from_file) if from_file is not None else url
    if from_file is not None:
        try:
            body = from_file.read_bytes()[: MAX_BYTES + 1]
        except OSError as exc:
            raise LlmTcoError(
                f"cannot read {from_file}: {exc.strerror}", field="--from-file"
            ) from None
    else:
        body = _download(url, transport)
    try:
        raw = json.loads(body)
    except ValueError:
        raise CatalogDataError(f"{origin}: not JSON; the shipped prices stay in use") from None
    new = _providers(raw, origin)
    old = list(GenaiPriceIndex()._snapshot.providers)
    fetched_on = today or dt.date.today()
    if not dry_run:
        _write(saved_data_path(), body, {"url": origin, "fetched_on": fetched_on.isoformat()})
    return PriceRefresh(
        url=origin,
        fetched_on=fetched_on,
        providers=len(new),
        models=sum(len(p.models) for p in new),
        written=not dry_run,
        changes=_changes(old, new),
        status=data_status(),
    )
