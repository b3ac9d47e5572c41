"""Files as DuckDB relations: CSV, JSON lines, JSON documents, Parquet and SQLite.

Readers build on these so that no format needs its own parser: DuckDB streams CSV, JSON lines
and Parquet larger than memory, and bad lines are kept and flagged instead of dropped.
"""

from __future__ import annotations

import csv
import json
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

from llm_tco.errors import LogFormatError
from llm_tco.ingest.canonical import quote_literal

SNIFF_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"
# One JSON line longer than this is rejected as malformed without being parsed (a log row is a
# few KB; exports with full prompts reach hundreds of KB); CSV lines stop at DuckDB's 2 MB.
MAX_JSON_LINE_BYTES = 4 * 1024 * 1024
MAX_CSV_LINE_BYTES = 2 * 1024 * 1024
SQLITE_MAGIC = b"SQLite format 3\x00"
# JSON text never holds a raw unit-separator byte, so it splits no line into columns.
LINE_DELIMITER = "\\x1f"


@dataclass(frozen=True)
class Source:
    """One input file: its path, its container kind and its position among the inputs."""

    path: Path
    kind: str  # csv | jsonl | json | parquet | sqlite
    index: int
    head: str  # the first bytes as text, for format detection

    @property
    def rejects_table(self) -> str:
        return f"csv_rejects_{self.index}"

    @property
    def literal(self) -> str:
        return quote_literal(str(self.path))


def open_source(path: Path, index: int) -> Source:
    """Classify ``path`` by its first bytes and extension (``.gz`` files by what they hold).

    Only regular files are read: a FIFO or a device would block or never end."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise LogFormatError("not a regular file", field=str(path), hint="give a log file")
        with path.open("rb") as handle:
            head_bytes = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise LogFormatError(f"cannot read log file: {exc.strerror}", field=str(path)) from exc
    suffix = path.suffix.lower()
    gzipped = head_bytes.startswith(GZIP_MAGIC)
    if gzipped:
        try:
            head_bytes = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head_bytes, SNIFF_BYTES)
        except zlib.error as exc:
            raise LogFormatError(f"not a gzip file: {exc}", field=str(path)) from None
        suffix = Path(path.stem).suffix.lower() if suffix == ".gz" else suffix
    head = head_bytes.decode("utf-8", errors="replace")
    if head_bytes.startswith(SQLITE_MAGIC):
        kind = "sqlite"
    elif suffix == ".parquet" or head_bytes.startswith(b"PAR1"):
        kind = "parquet"
    elif suffix in {".json", ".jsonl", ".ndjson"} or head.lstrip().startswith(("{", "[")):
        kind = "jsonl" if _is_json_lines(head) else "json"
    else:
        kind = "csv"
    if gzipped and kind not in {"csv", "jsonl"}:
        raise LogFormatError(
            f"a gzipped {kind} file cannot be read",
            field=str(path),
            hint="decompress it (gzip works for CSV and JSON lines)",
        )
    return Source(path=path, kind=kind, index=index, head=head)


def _is_json_lines(head: str) -> bool:
    """True when the file is one JSON value per line (its first line parses on its own)."""
    text = head.lstrip()
    if text.startswith("["):
        return False
    first_line = text.split("\n", 1)[0]
    try:
        json.loads(first_line)
    except ValueError:
        return False
    return True


def csv_relation(source: Source) -> str:
    """All columns as text; rows with the wrong number of fields go to a rejects table."""
    return (
        f"read_csv({source.literal}, header = true, all_varchar = true, "
        f"store_rejects = true, rejects_table = '{source.rejects_table}', "
        f"rejects_scan = '{source.rejects_table}_scan')"
    )


def csv_relation_from_header(source: Source) -> str:
    """Like :func:`csv_relation`, with the columns taken from the header line instead of
    DuckDB's sniffer (which gives up on a file with a line past its limit); such a line is
    then one rejected row."""
    first = source.head.split("\n", 1)[0].rstrip("\r")
    if len(source.head) >= SNIFF_BYTES and "\n" not in source.head:
        raise LogFormatError("the header line is over 64 KB", field=str(source.path))
    try:
        delimiter = csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    names = next(csv.reader([first], delimiter=delimiter), [])
    if not names or len(set(names)) != len(names):
        raise LogFormatError("no header line with unique column names", field=str(source.path))
    columns = ", ".join(f"{quote_literal(n)}: 'VARCHAR'" for n in names)
    return (
        f"read_csv({source.literal}, header = true, auto_detect = false, "
        f"delim = {quote_literal(delimiter)}, quote = '\"', escape = '\"', "
        f"columns = {{{columns}}}, max_line_size = {MAX_CSV_LINE_BYTES}, "
        f"store_rejects = true, rejects_table = '{source.rejects_table}', "
        f"rejects_scan = '{source.rejects_table}_scan')"
    )


def parquet_relation(source: Source) -> str:
    return f"read_parquet({source.literal})"


def columns_of(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    """Column names of a relation (CSV sniffing reads only a sample)."""
    try:
        return [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
    except duckdb.Error as exc:
        raise LogFormatError(f"cannot read columns: {_first_line(exc)}") from exc


def docs_relation(con: duckdb.DuckDBPyConnection, source: Source) -> str:
    """``(doc JSON, bad BOOLEAN, raw VARCHAR)``: one row per JSON line or document element."""
    if source.kind == "jsonl":
        lines = (
            f"read_csv({source.literal}, columns = {{'line': 'VARCHAR'}}, header = false, "
            f"auto_detect = false, delim = '{LINE_DELIMITER}', quote = '', escape = '', "
            f"max_line_size = {2 * MAX_JSON_LINE_BYTES}, store_rejects = true, "
            f"rejects_table = '{source.rejects_table}', "
            f"rejects_scan = '{source.rejects_table}_scan')"
        )
        # A line past MAX_JSON_LINE_BYTES is never parsed: it is one malformed row.
        ok = f"(strlen(line) <= {MAX_JSON_LINE_BYTES} AND json_valid(line))"
        return (
            f"(SELECT CASE WHEN {ok} THEN CAST(line AS JSON) END AS doc, "
            f"NOT {ok} AS bad, left(line, 200) AS raw "
            f"FROM {lines} WHERE line IS NOT NULL AND trim(line) <> '')"
        )
    valid = con.execute(f"SELECT json_valid(content) FROM read_text({source.literal})").fetchone()
    if not valid or not valid[0]:
        raise LogFormatError(
            "not valid JSON",
            field=str(source.path),
            hint="a JSON export must be one document, or one JSON value per line",
        )
    return (
        "(SELECT unnest(CASE WHEN json_type(CAST(content AS JSON)) = 'ARRAY' "
        "THEN json_extract(content, '$[*]') ELSE [CAST(content AS JSON)] END) AS doc, "
        f"FALSE AS bad, CAST(NULL AS VARCHAR) AS raw FROM read_text({source.literal}))"
    )


def records_relation(docs: str, wrapper: str = "$.data") -> str:
    """``(rec JSON)``: each record of valid docs; a doc that wraps its records in ``wrapper``
    (an API page such as ``{"data": [...]}``) or is an array is unnested."""
    return (
        "(SELECT unnest(CASE "
        "WHEN json_type(doc) = 'ARRAY' THEN json_extract(doc, '$[*]') "
        f"WHEN json_type(doc, '{wrapper}') = 'ARRAY' THEN json_extract(doc, '{wrapper}[*]') "
        f"ELSE [doc] END) AS rec FROM {docs} WHERE NOT bad)"
    )


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
