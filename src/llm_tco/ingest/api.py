"""Entry points: ``ingest`` (summary of log files or a warehouse table) and
``workload_from_logs`` (scenario workload keys, cached on disk)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from llm_tco.cache import cache_dir
from llm_tco.catalog.loader import load_catalog
from llm_tco.catalog.prices import ApiPriceQuote
from llm_tco.errors import CatalogLookupError, LogFormatError
from llm_tco.ingest.engine import ProgressCallback, scan_files
from llm_tco.ingest.model import IngestSummary, Scan
from llm_tco.ingest.summary import PriceLookup, summarise, workload_section

CACHE_VERSION = (
    4  # 4: cache-write share; 3: prefix reuse share; 2: non-finite, too-large, future, outlier rows
)


def catalog_price(model: str) -> ApiPriceQuote | None:
    """The catalog's list price of ``model``, or None when the catalog does not know it."""
    try:
        return load_catalog().api_price(model)
    except CatalogLookupError:
        return None


def scan(
    paths: Sequence[str | Path],
    *,
    format: str = "auto",
    by: str | None = None,
    mapping: Mapping[str, str] | None = None,
    backend: str | None = None,
    table: str | None = None,
    preset: str | None = None,
    progress: ProgressCallback | None = None,
) -> Scan:
    """Read logs from files (DuckDB) or from a warehouse table (``backend`` = Ibis URL;
    ``preset`` names a known table layout, see ``presets.PRESETS``)."""
    if backend:
        from llm_tco.ingest.warehouse import scan_table

        return scan_table(backend, table, by=by, mapping=mapping or {}, preset=preset)
    if preset or table:
        raise LogFormatError(
            "--table and --preset read a warehouse table",
            field="--backend",
            hint="give the connection URL with --backend (or LLM_TCO_BACKEND)",
        )
    if not paths:
        raise LogFormatError("no log files given", hint="pass one or more PATHs")
    return scan_files(
        [Path(p) for p in paths], format_name=format, by=by, mapping=mapping, progress=progress
    )


def ingest(
    paths: Sequence[str | Path],
    *,
    format: str = "auto",
    by: str | None = None,
    mapping: Mapping[str, str] | None = None,
    backend: str | None = None,
    table: str | None = None,
    preset: str | None = None,
    price: PriceLookup | None = catalog_price,
    progress: ProgressCallback | None = None,
) -> IngestSummary:
    """Summarise request logs; see :mod:`llm_tco.ingest.summary` for the definitions."""
    result = scan(
        paths,
        format=format,
        by=by,
        mapping=mapping,
        backend=backend,
        table=table,
        preset=preset,
        progress=progress,
    )
    return summarise(result, price)


def _cache_key(path: Path, format: str, group: str | None) -> str:
    stat = path.stat()
    ident = [CACHE_VERSION, str(path.resolve()), stat.st_size, stat.st_mtime_ns, format, group]
    return hashlib.sha256(json.dumps(ident).encode()).hexdigest()[:32]


def workload_from_logs(
    path: str | Path, *, format: str = "auto", group: str | None = None
) -> dict[str, float]:
    """Scenario workload keys derived from a log file, for the whole log or one group.

    ``group`` is a value of the model, workload tag or key grouping (tried in that order).
    Results are cached in ``$LLM_TCO_CACHE_DIR`` (default ``~/.cache/llm-tco``), keyed by the
    file's path, size and modification time, so evaluating a scenario again does not re-read
    the log.
    """
    file = Path(path)
    if not file.exists():
        raise LogFormatError("log file not found", field=str(path))
    cache = cache_dir() / f"workload-{_cache_key(file, format, group)}.json"
    try:
        cached: dict[str, float] = json.loads(cache.read_text(encoding="utf-8"))
        return cached
    except (OSError, ValueError):
        pass
    section = _compute_workload(file, format, group)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(section), encoding="utf-8")
    except OSError:
        pass  # a read-only cache only costs speed
    return section


def _compute_workload(file: Path, format: str, group: str | None) -> dict[str, float]:
    if group is None:
        summary = ingest([file], format=format, price=None)
        if not summary.groups:
            raise LogFormatError("no valid rows in the log", field=str(file))
        return workload_section(summary.groups["all"])
    for by in ("model", "workload-tag", "key"):
        summary = ingest([file], format=format, by=by, price=None)
        if group in summary.groups:
            return workload_section(summary.groups[group])
    raise LogFormatError(
        f"no group '{group}' in the log",
        field=str(file),
        hint="name a model, workload tag or key seen in the log (see `llm-tco ingest --by`)",
    )
