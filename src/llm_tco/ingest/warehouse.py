"""The warehouse path: validate and aggregate a log table where it lives, through Ibis.

Teams whose request logs already sit in PostgreSQL, ClickHouse, Spark, BigQuery, Snowflake or
Trino point ``--backend`` at an Ibis connection URL and ``--table`` at the log table (or
``--preset`` at a known one: ``presets.PRESETS``). Every aggregate runs inside the backend and
only small results come back: the hourly cube per (group, model, hour, batch) with rejected
rows counted by reason, the number of minutes that saw each per-minute request count, and a
histogram of input x output tokens in fixed buckets. No raw row crosses the wire except the
copies of request ids that occur more than once (to keep the first and reject the rest).

Five small results are fetched: the request ids seen more than once (reading only the id
column), the distinct model names (so the cube can carry a small code instead), the cube, the
per-minute arrivals and the length histogram; plus, only when ids repeat, each distinct copy
of those rows and the arrivals in their minutes. Over a columnar store the first two read one
column each; the other three are one scan of the table each. On Spark every aggregation is a
partial aggregate per input split and one shuffle of the partial results (the per-minute
counts shuffle twice).

Credentials come from the URL or from the backend's own environment variables (PostgreSQL's
``PGPASSWORD``, for one); the URL can itself come from ``LLM_TCO_BACKEND``. Error messages
never show a password: the URL is always printed with it masked.
"""

from __future__ import annotations

import contextlib
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from llm_tco.errors import LogFormatError
from llm_tco.ingest.engine import GROUP_BY, to_scan
from llm_tco.ingest.generic import ALIASES
from llm_tco.ingest.model import BackendStats, Scan, ShapeCounts
from llm_tco.ingest.presets import PRESETS, Canonical, Preset
from llm_tco.ingest.reasons import (
    DUPLICATE,
    EARLIEST_S,
    FUTURE_SLACK_S,
    LATEST_S,
    MAX_TOKENS_PER_REQUEST,
    ROW_CHECKS,
)
from llm_tco.ingest.shape import LENGTH_EDGES

# Anything past this is infinite (or NaN, which PostgreSQL, DuckDB and Spark all order above
# every number; SQLite stores NaN as NULL).
_NON_FINITE = 1e308
SPARK_CONFIG = {
    "spark.master": "local[*]",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.ansi.enabled": "false",
}


def _ibis() -> Any:
    try:
        import ibis
    except ImportError as exc:
        raise LogFormatError(
            "reading a warehouse needs Ibis",
            field="--backend",
            hint="pip install 'llm-tco[warehouse]' plus the backend's extra",
        ) from exc
    return ibis


def masked_url(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def _redact(text: str, url: str) -> str:
    """Remove the URL's password from ``text`` (raw and percent-decoded)."""
    try:
        secret = urllib.parse.urlsplit(url).password
    except ValueError:
        secret = None
    if secret:
        for form in {secret, urllib.parse.unquote(secret), urllib.parse.quote(secret)}:
            text = text.replace(form, "***")
    return text


def spark_builder(builder: Any, master: str | None = None) -> Any:
    """A SparkSession builder with the settings the aggregation assumes (UTC above all)."""
    for key, value in SPARK_CONFIG.items():
        builder = builder.config(key, value)
    return builder.master(master) if master else builder


def connect(url: str) -> Any:
    """An Ibis connection; ``pyspark://`` starts (or joins) a local Spark, and
    ``pyspark://?master=spark://host:7077`` a cluster's."""
    ibis = _ibis()
    try:
        if url.split(":", 1)[0] == "pyspark":
            from pyspark.sql import SparkSession

            # A session this process already runs (a notebook's, a test's) is used as it is.
            session = SparkSession.getActiveSession()
            if session is None:
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
                master = query.get("master", [None])[0]
                session = spark_builder(SparkSession.builder, master).getOrCreate()
            return ibis.pyspark.connect(session)
        return ibis.connect(url)
    except ImportError as exc:
        raise LogFormatError(
            f"no Ibis driver for {masked_url(url)}: {_redact(_first_line(exc), url)}",
            field="--backend",
            hint="pip install 'llm-tco[warehouse]' (PostgreSQL, DuckDB, SQLite) or "
            "'llm-tco[spark]', or ibis-framework[<backend>]",
        ) from None
    except Exception as exc:  # each driver raises its own types
        raise LogFormatError(
            f"cannot reach the backend {masked_url(url)}: {_redact(_first_line(exc), url)}",
            field="--backend",
            hint="check host, port, database and credentials (a password can also come from "
            "the backend's environment variable, e.g. PGPASSWORD)",
        ) from None


def open_table(con: Any, table: str, preset: Preset | None) -> Any:
    """The table named ``table``, or a Parquet file or glob read by the backend itself."""
    if table.endswith(".parquet") or "/" in table:
        try:
            return con.read_parquet(table)
        except Exception as exc:
            raise LogFormatError(
                f"cannot read Parquet '{table}': {_first_line(exc)}", field="--table"
            ) from None
    try:
        return con.table(table)
    except Exception as exc:
        expectation = (
            f" (the preset expects {preset.table}, with columns {', '.join(preset.columns)})"
            if preset
            else ""
        )
        raise LogFormatError(
            f"no table '{table}' in the backend{expectation}: {_first_line(exc)}",
            field="--table",
            hint="name the log table with --table (schema.table where the backend has schemas)",
        ) from None


def _generic(ibis: Any, t: Any, mapping: Mapping[str, str]) -> Canonical:
    """Generic tables: columns found by ``--map`` first, then the usual names."""
    by_lower = {c.lower(): c for c in t.columns}
    found: dict[str, str] = {}
    for canonical, names in ALIASES.items():
        wanted = [mapping[canonical]] if canonical in mapping else list(names)
        for name in wanted:
            if name.lower() in by_lower:
                found[canonical] = by_lower[name.lower()]
                break
    missing = [c for c in ("ts", "input_tokens", "output_tokens") if c not in found]
    if missing:
        raise LogFormatError(
            f"no column for {', '.join(missing)} in the table (columns: {', '.join(t.columns)})",
            field="--table",
            hint="name them with --map ts=COLUMN,input_tokens=COLUMN,output_tokens=COLUMN, or "
            f"use --preset ({', '.join(PRESETS)})",
        )
    fields = {
        name: t[column] for name, column in found.items() if name in Canonical.__dataclass_fields__
    }
    return Canonical(**fields)


def _check_columns(t: Any, preset: Preset, table: str) -> None:
    missing = [c for c in preset.required if c not in t.columns]
    if missing:
        raise LogFormatError(
            f"table '{table}' has no column {', '.join(repr(c) for c in missing)}; the preset "
            f"expects {', '.join(preset.columns)} (as in {preset.source})",
            field="--table",
            hint="point --table at the tool's own table, or map a generic table with --map",
        )


def scan_table(
    url: str,
    table: str | None,
    *,
    by: str | None,
    mapping: Mapping[str, str],
    preset: str | None = None,
) -> Scan:
    """Validate and aggregate ``table`` (or the preset's) inside the warehouse at ``url``."""
    chosen = _preset(preset)
    name = table or (chosen.table if chosen else None)
    if not name:
        raise LogFormatError("a warehouse needs a table", field="--table", hint="or --preset")
    con = connect(url)
    try:
        return scan_connection(con, name, by=by, mapping=mapping, preset=chosen, url=url)
    finally:
        disconnect = getattr(con, "disconnect", None)
        if disconnect is not None and url.split(":", 1)[0] != "pyspark":
            with contextlib.suppress(Exception):  # closing is best effort
                disconnect()


def _preset(name: str | None) -> Preset | None:
    if name is None:
        return None
    if name not in PRESETS:
        raise LogFormatError(f"unknown preset '{name}'", field="--preset", hint=", ".join(PRESETS))
    return PRESETS[name]


def scan_connection(
    con: Any,
    table: str,
    *,
    by: str | None = None,
    mapping: Mapping[str, str] | None = None,
    preset: Preset | None = None,
    url: str = "",
) -> Scan:
    """Aggregate ``table`` on an open Ibis connection ``con``."""
    ibis = _ibis()
    if by is not None and by not in GROUP_BY:
        raise LogFormatError(
            f"unknown grouping '{by}'", field="--by", hint="model, workload-tag, key"
        )
    t = open_table(con, table, preset)
    if preset is not None:
        _check_columns(t, preset, table)
        canonical = preset.build(ibis, t)
    else:
        canonical = _generic(ibis, t, mapping or {})
    stats = _Stats(con)
    try:
        plan = _plan(ibis, t, canonical, by, stats)
        rows = _cube(ibis, plan, by, stats)
        shapes = _shapes(ibis, plan, stats)
    except LogFormatError:
        raise
    except Exception as exc:
        raise LogFormatError(
            f"warehouse query failed: {_redact(_first_line(exc), url)}", field="--backend"
        ) from None
    scan = to_scan(rows, [], ["warehouse"])
    return scan.model_copy(update={"shapes": shapes, "stats": stats.result()})


class _Stats:
    """Counts the queries run and the rows and bytes they returned."""

    def __init__(self, con: Any) -> None:
        self.backend = str(getattr(con, "name", "unknown"))
        self.queries = self.rows = self.bytes = 0
        self.started = time.perf_counter()

    def fetch(self, expr: Any) -> list[dict[str, Any]]:
        table = expr.to_pyarrow()
        self.queries += 1
        self.rows += table.num_rows
        self.bytes += table.nbytes
        rows: list[dict[str, Any]] = table.to_pylist()
        return rows

    def result(self) -> BackendStats:
        return BackendStats(
            backend=self.backend,
            queries=self.queries,
            rows_returned=self.rows,
            bytes_returned=self.bytes,
            seconds=round(time.perf_counter() - self.started, 3),
        )


def _number(ibis: Any, raw: Any) -> tuple[Any, Any]:
    """(value as float64, whether a value is present) for a numeric or text column."""
    if raw is None:
        return ibis.null("float64"), ibis.literal(False)
    kind = raw.type()
    if kind.is_string():
        text = raw.strip()
        return text.try_cast("float64"), raw.notnull() & (text != "")
    if kind.is_boolean():
        return raw.cast("int64").cast("float64"), raw.notnull()
    return raw.cast("float64"), raw.notnull()


def _text(ibis: Any, raw: Any, default: str) -> Any:
    if raw is None:
        return ibis.literal(default)
    return raw.cast("string").fill_null(default)


def _timestamp(raw: Any) -> Any:
    kind = raw.type()
    if kind.is_timestamp():
        return raw
    if kind.is_date():
        return raw.cast("timestamp")
    if kind.is_string():
        return raw.try_cast("timestamp")
    raise LogFormatError(
        f"the time column has type {kind}; it must be a timestamp or ISO 8601 text",
        field="--table",
        hint="map another column with --map ts=COLUMN",
    )


REJECT_REASONS = ROW_CHECKS  # the same checks, in the same order, as the file engine
# Results carry small integer codes instead of text (model names, reasons) so that what crosses
# the wire stays small; past this many distinct models, names are sent as they are.
MAX_CODED_MODELS = 1000
# Repeated request ids are sent back to the backend as a small table up to this many; beyond it
# the queries find them again in a subquery.
MAX_LITERAL_IDS = 20_000


class _Plan:
    """The validated table and what the queries over it share."""

    def __init__(self, base: Any, reasons: list[str], present: dict[str, bool]) -> None:
        self.base = base
        self.reasons = reasons  # code -> reason ('skip:NAME' for skipped rows)
        self.present = present  # which optional sums the table can have
        self.models: list[str] | None = None
        self.repeated: Any = None  # ibis boolean: valid row whose id occurs more than once
        self.has_repeated = False
        self.rows: Any = base  # every row once, with duplicates coded


def _plan(ibis: Any, t: Any, c: Canonical, by: str | None, stats: _Stats | None) -> _Plan:
    """Validate every row (a reason code, NULL when valid) and find repeated ids and models."""
    in_n, in_present = _number(ibis, c.input_tokens)
    out_n, out_present = _number(ibis, c.output_tokens)
    cached_n, cached_present = _number(ibis, c.cached_input_tokens)
    req_n, req_present = _number(ibis, c.requests)
    billed_n, _ = _number(ibis, c.billed_usd)
    ts = _timestamp(c.ts)
    seconds = ts.epoch_seconds().cast("int64")
    cached0, req1 = cached_n.fill_null(0), req_n.fill_null(1)

    def non_finite(x: Any) -> Any:
        return (x > _NON_FINITE) | (x < -_NON_FINITE)

    checks = [
        (~in_present | ~out_present),
        (
            in_n.isnull()
            | out_n.isnull()
            | (cached_present & cached_n.isnull())
            | (req_present & req_n.isnull())
        ),
        non_finite(in_n) | non_finite(out_n) | non_finite(cached0) | non_finite(req1),
        (in_n < 0) | (out_n < 0) | (cached0 < 0) | (req1 < 0),
        (in_n > MAX_TOKENS_PER_REQUEST * ibis.greatest(req1, 1))
        | (out_n > MAX_TOKENS_PER_REQUEST * ibis.greatest(req1, 1)),
        cached0 > in_n,
        c.ts.isnull(),
        seconds.isnull() | (seconds < EARLIEST_S) | (seconds >= LATEST_S),
        seconds > int(time.time()) + FUTURE_SLACK_S,
    ]
    assert len(checks) == len(REJECT_REASONS)
    reasons = [f"skip:{name}" for _, name in c.skips] + [*REJECT_REASONS, DUPLICATE]
    conditions = [condition for condition, _ in c.skips] + checks
    code = ibis.cases(
        *((cond, ibis.literal(i, "int8")) for i, cond in enumerate(conditions)),
        else_=ibis.null("int8"),
    )
    group_field = {"model": c.model, "workload-tag": c.tag, "key": c.key}.get(by or "")
    group = _text(ibis, group_field, "(none)") if by else ibis.literal("all")
    batch = ibis.literal(False) if c.batch is None else c.batch.cast("boolean").fill_null(False)
    rid = ibis.null("string") if c.request_id is None else c.request_id.cast("string")
    base = t.select(
        _code=code,
        _rid=rid,
        _sec=seconds,
        _in=in_n,
        _out=out_n,
        _cached=cached0,
        _group=group,
        _model=_text(ibis, c.model, "(unknown)"),
        _batch=batch,
        _req=req1,
        _billed=billed_n,
    )
    present = {
        "cached": c.cached_input_tokens is not None,
        "requests": c.requests is not None,
        "billed": c.billed_usd is not None,
    }
    plan = _Plan(base, reasons, present)
    valid = base._code.isnull()
    plan.repeated = ibis.literal(False)
    if c.request_id is not None:
        ids = base.filter(base._rid.notnull()).group_by("_rid").aggregate(n=ibis._.count())
        repeated_ids = ids.filter(ids.n > 1).select("_rid")
        found = None if stats is None else stats.fetch(repeated_ids.limit(MAX_LITERAL_IDS + 1))
        if found is None or len(found) > MAX_LITERAL_IDS:
            plan.repeated = valid & base._rid.isin(repeated_ids._rid)
            plan.has_repeated = True
        elif found:
            # A small table the backend holds for the query (a temporary table or view), so
            # the test is a hash semi-join rather than a long IN list per row.
            ids = ibis.memtable({"_rid": [str(r["_rid"]) for r in found]})
            plan.repeated = valid & base._rid.isin(ids._rid)
            plan.has_repeated = True
    if stats is not None:
        names = stats.fetch(base.select("_model").distinct().limit(MAX_CODED_MODELS + 1))
        if len(names) <= MAX_CODED_MODELS:
            plan.models = sorted(str(r["_model"]) for r in names)
    plan.rows = _deduplicated(ibis, plan, reasons.index(DUPLICATE))
    return plan


def _deduplicated(ibis: Any, plan: _Plan, duplicate_code: int) -> Any:
    """Every row once more, the valid copies of a repeated id but the first (earliest, then
    smallest, as in ``engine.to_scan``) coded as duplicates. Only the rows of repeated ids are
    numbered, so the window stays small."""
    base = plan.base
    if not plan.has_repeated:
        return base
    copies = base.filter(plan.repeated)
    order = ibis.window(group_by="_rid", order_by=["_sec", "_in", "_out"])
    copies = copies.mutate(
        _code=ibis.cases(
            (ibis.row_number().over(order) > 0, ibis.literal(duplicate_code, "int8")),
            else_=copies._code,
        )
    )
    return base.filter(~plan.repeated).union(copies)


def _model_code(ibis: Any, plan: _Plan, rows: Any) -> Any:
    if plan.models is None:
        return rows._model
    model = rows._model
    return ibis.cases(
        *((model == name, ibis.literal(i, "int16")) for i, name in enumerate(plan.models)),
        else_=ibis.null("int16"),
    )


def cube_query(ibis: Any, plan: _Plan, by: bool = True) -> Any:
    """Valid rows summed per (group, model, hour, batch), rejected rows per reason with the
    smallest and largest id as samples."""
    rows = plan.rows
    ok = rows._code.isnull()

    def keep(value: Any) -> Any:
        return ibis.cases((ok, value), else_=ibis.null(value.type()))

    def rejected(value: Any) -> Any:
        return ibis.cases((~ok, value), else_=ibis.null(value.type()))

    keys = {
        "k_model": keep(_model_code(ibis, plan, rows)),
        "k_hour": keep((rows._sec // 3600).cast("int32")),
        "k_batch": keep(rows._batch),
    }
    if by:
        keys["k_grp"] = keep(rows._group)
    keyed = rows.mutate(**keys, s_rid=rejected(rows._rid))
    sums = {
        "n_rows": keyed.count().cast("int32"),
        "input_tokens": keyed._in.sum(),
        "output_tokens": keyed._out.sum(),
    }
    if plan.present["cached"]:
        sums["cached_input_tokens"] = keyed._cached.sum()
    if plan.present["requests"]:
        sums["requests"] = keyed._req.sum()
    if plan.present["billed"]:
        sums["billed_usd"] = keyed._billed.sum()
        sums["billed_rows"] = keyed._billed.count()
    return keyed.group_by(["_code", *keys]).aggregate(
        **sums, sample_a=keyed.s_rid.min(), sample_b=keyed.s_rid.max()
    )


def _cube(ibis: Any, plan: _Plan, by: str | None, stats: _Stats) -> list[tuple[Any, ...]]:
    """The cube rows, with the columns ``engine.to_scan`` reads."""
    result = []
    for r in stats.fetch(cube_query(ibis, plan, by=by is not None)):
        code, n = r["_code"], r["n_rows"]
        model = r["k_model"]
        if plan.models is not None and model is not None:
            model = plan.models[model]
        samples = [None if s is None else f"id={s}" for s in (r["sample_a"], r["sample_b"])]
        valid = code is None
        result.append(
            (
                None if valid else plan.reasons[code],
                r.get("k_grp", "all") if valid else None,
                model,
                r["k_hour"],
                r["k_batch"],
                None,
                None,
                None,
                None,
                n,
                r.get("requests", n),
                n,  # every row says how many requests it is (1 unless a column says more)
                r["input_tokens"],
                r["output_tokens"],
                r.get("cached_input_tokens", 0.0),
                r.get("billed_usd"),
                r.get("billed_rows", 0),
                0.0,
                0.0,  # cache writes: no preset reads them yet
                *samples,
            )
        )
    return result


def _bucket(ibis: Any, x: Any, low: int = 0, high: int = len(LENGTH_EDGES)) -> Any:
    """Index of the ``LENGTH_EDGES`` bucket holding ``x``: a balanced tree of comparisons
    (seven per value) that every SQL engine evaluates the same way."""
    if high - low == 1:
        return ibis.literal(low, "int16")
    mid = (low + high) // 2
    return ibis.cases(
        (x < LENGTH_EDGES[mid], _bucket(ibis, x, low, mid)), else_=_bucket(ibis, x, mid, high)
    )


def single_copies(ibis: Any, plan: _Plan) -> Any:
    """Valid rows, each request id once."""
    return plan.rows.filter(plan.rows._code.isnull())


def minutes_query(ibis: Any, single: Any) -> Any:
    """How many minutes saw each per-minute request count, per group."""
    return (
        single.group_by(["_group", (single._sec // 60).name("_minute")])
        .aggregate(n=ibis._.count())
        .group_by(["_group", "n"])
        .aggregate(minutes=ibis._.count())
    )


def lengths_query(ibis: Any, single: Any) -> Any:
    """Requests per (input bucket, output bucket), per group."""
    return (
        single.select("_group", _ib=_bucket(ibis, single._in), _ob=_bucket(ibis, single._out))
        .group_by(["_group", "_ib", "_ob"])
        .aggregate(n=ibis._.count())
    )


def queries(con: Any, table: str, *, preset: str | None = None, by: str | None = None) -> Any:
    """The three aggregation queries as Ibis expressions (for plans and benchmarks)."""
    ibis = _ibis()
    chosen = _preset(preset)
    t = open_table(con, table, chosen)
    canonical = chosen.build(ibis, t) if chosen else _generic(ibis, t, {})
    plan = _plan(ibis, t, canonical, by, None)
    single = single_copies(ibis, plan)
    return {
        "cube": cube_query(ibis, plan, by=by is not None),
        "minutes": minutes_query(ibis, single),
        "lengths": lengths_query(ibis, single),
    }


def _shapes(ibis: Any, plan: _Plan, stats: _Stats) -> dict[str, ShapeCounts]:
    """Per-minute arrival counts and the length histogram of every valid request."""
    single = single_copies(ibis, plan)
    width = len(LENGTH_EDGES)
    per_minute: dict[str, list[tuple[int, int]]] = {}
    for r in stats.fetch(minutes_query(ibis, single)):
        per_minute.setdefault(r["_group"], []).append((int(r["n"]), int(r["minutes"])))
    hist: dict[str, tuple[list[int], list[int]]] = {}
    for r in stats.fetch(lengths_query(ibis, single)):
        ins, outs = hist.setdefault(r["_group"], ([0] * width, [0] * width))
        ins[int(r["_ib"])] += int(r["n"])
        outs[int(r["_ob"])] += int(r["n"])
    empty: tuple[list[int], list[int]] = ([0] * width, [0] * width)
    return {
        group: ShapeCounts(
            minute_counts=sorted(per_minute.get(group, [])),
            input_histogram=hist.get(group, empty)[0],
            output_histogram=hist.get(group, empty)[1],
        )
        for group in sorted(set(per_minute) | set(hist))
    }


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
