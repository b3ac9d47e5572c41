"""Log formats: detection and the canonical ``SELECT`` for each, kept in one dict.

A format module declares which field names give it away (``SIGNATURES``) and which of its
fields give each canonical column (``fields``); this module turns that into SQL for whichever
container the file is (CSV, JSON lines, a JSON document, Parquet or a SQLite table).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType

import duckdb

from llm_tco.errors import LogFormatError
from llm_tco.ingest import (
    anthropic_usage,
    generic,
    helicone,
    langfuse,
    litellm,
    llm_cli,
    openai_usage,
    otel,
)
from llm_tco.ingest.canonical import (
    CANONICAL_COLUMNS,
    canonical_select,
    malformed_select,
    quote_ident,
    quote_literal,
)
from llm_tco.ingest.sources import (
    Source,
    columns_of,
    csv_relation,
    csv_relation_from_header,
    docs_relation,
    parquet_relation,
    records_relation,
)

# Detection order matters: the more specific signatures come first, generic is the fallback.
READERS: dict[str, ModuleType] = {
    "otel": otel,
    "openai": openai_usage,
    "anthropic": anthropic_usage,
    "langfuse": langfuse,
    "litellm": litellm,
    "helicone": helicone,
    "llm": llm_cli,
    "generic": generic,
}
FORMATS = ("auto", *READERS)

Getter = Callable[..., str]


@dataclass(frozen=True)
class ReaderSql:
    """A file's canonical relation, and whether it carries request ids at all."""

    format: str
    sql: str
    has_request_id: bool
    has_prompt: bool = False


def detect(source: Source, columns: list[str]) -> str:
    """The first format whose signature fits the file's columns (tables) or text (JSON)."""
    if source.kind == "sqlite":
        return "llm"  # the only SQLite log we read; load_sqlite checked its responses table
    lowered = {c.lower() for c in columns}
    for name, module in READERS.items():
        if name in {"generic", "llm"}:
            continue
        for signature in module.SIGNATURES:
            if source.kind in {"json", "jsonl"}:
                if all(f'"{word}"' in source.head for word in signature):
                    return name
            elif all(word.lower() in lowered for word in signature):
                return name
    return "generic"


def table_getter(columns: list[str]) -> Getter:
    """Field paths such as ``$.usage.input`` looked up among flat column names."""
    by_lower = {c.lower(): c for c in columns}

    def get(*paths: str) -> str:
        found = []
        for path in paths:
            name = path.removeprefix("$.").replace('"', "")
            for candidate in (name, name.replace(".", "_"), name.rsplit(".", 1)[-1]):
                if candidate.lower() in by_lower:
                    found.append(quote_ident(by_lower[candidate.lower()]))
                    break
        if not found:
            return "NULL"
        return found[0] if len(found) == 1 else f"coalesce({', '.join(found)})"

    return get


def json_getter(record: str = "rec") -> Getter:
    def get(*paths: str) -> str:
        values = [f"json_extract_string({record}, {quote_literal(p)})" for p in paths]
        return values[0] if len(values) == 1 else f"coalesce({', '.join(values)})"

    return get


def reader_sql(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    format_name: str,
    mapping: Mapping[str, str],
) -> ReaderSql:
    """The canonical ``SELECT`` for ``source`` read as ``format_name`` (or auto-detected)."""
    if source.kind == "sqlite":
        relation = llm_cli.load_sqlite(con, source)
        columns = columns_of(con, relation)
    elif source.kind == "csv":
        relation = csv_relation(source)
        try:
            columns = columns_of(con, relation)
        except LogFormatError:
            # The sniffer gives up on a line past its limit: read by the header line instead.
            relation = csv_relation_from_header(source)
            columns = columns_of(con, relation)
    elif source.kind == "parquet":
        relation = parquet_relation(source)
        columns = columns_of(con, relation)
    else:
        relation, columns = "", []
    name = detect(source, columns) if format_name == "auto" else format_name
    if name not in READERS:
        raise LogFormatError(f"unknown log format '{name}'", hint=f"one of {', '.join(FORMATS)}")
    module = READERS[name]
    if source.kind in {"json", "jsonl"}:
        docs = docs_relation(con, source)
        records = getattr(module, "records", records_relation)(docs)
        exprs = _with_mapping(module.fields(json_getter()), mapping, json_getter())
        sql = f"{canonical_select(exprs, records)} UNION ALL {malformed_select(docs)}"
    else:
        get = table_getter(columns)
        exprs = _with_mapping(module.fields(get), mapping, get)
        sql = canonical_select(exprs, relation)
    _check_required(exprs, source, name)
    return ReaderSql(
        format=name,
        sql=sql,
        has_request_id=exprs.get("request_id", "NULL") != "NULL",
        has_prompt=any(exprs.get(c, "NULL") != "NULL" for c in ("prompt", "prompt_hash")),
    )


def _with_mapping(exprs: dict[str, str], mapping: Mapping[str, str], get: Getter) -> dict[str, str]:
    """Apply ``--map canonical=field`` overrides on top of a format's own fields."""
    merged = dict(exprs)
    for canonical, field in mapping.items():
        # A quoted key keeps dotted names ("gen_ai.usage.input_tokens") as one key.
        merged[canonical] = get(field if field.startswith("$") else f'$."{field}"')
    return merged


def _check_required(exprs: Mapping[str, str], source: Source, name: str) -> None:
    """A file that has no timestamp or token field at all is the wrong format, not bad rows."""
    missing = [c for c in ("ts", "input_tokens", "output_tokens") if exprs.get(c, "NULL") == "NULL"]
    if missing:
        raise LogFormatError(
            f"no column for {', '.join(missing)} when read as '{name}'",
            field=str(source.path),
            hint="pick the format with --format, or name the columns with "
            "--map ts=COLUMN,input_tokens=COLUMN,output_tokens=COLUMN",
        )


def parse_mapping(text: str | None) -> dict[str, str]:
    """``"ts=created,input_tokens=tok_in"`` -> ``{"ts": "created", ...}``."""
    if not text:
        return {}
    aliases = {
        "timestamp": "ts",
        "time": "ts",
        "prompt_tokens": "input_tokens",
        "completion_tokens": "output_tokens",
        "id": "request_id",
    }
    mapping: dict[str, str] = {}
    for part in text.split(","):
        if "=" not in part:
            raise LogFormatError(
                f"bad mapping '{part}'", field="--map", hint="write canonical=column"
            )
        key, value = (s.strip() for s in part.split("=", 1))
        key = aliases.get(key, key)
        if key not in CANONICAL_COLUMNS or key in {"malformed", "raw", "skipped"}:
            raise LogFormatError(
                f"unknown column '{key}'",
                field="--map",
                hint="one of ts, model, input_tokens, output_tokens, cached_input_tokens, "
                "request_id, requests, batch, tag, key, billed_usd",
            )
        mapping[key] = value
    return mapping
