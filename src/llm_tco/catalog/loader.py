"""Load and look up the catalog.

The catalog is loaded once per process (``load_catalog`` is cached) and passed to the core as a
value, so tests can build their own. API prices come from our YAML overrides first, then from the
``genai-prices`` package's offline snapshot.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from llm_tco.cache import cache_dir
from llm_tco.catalog.benchmarks import BenchmarkRow, EfficiencyRow
from llm_tco.catalog.names import (
    OPTIONAL_FORM,
    gpu_all_tokens,
    gpu_identity,
    gpu_is_card,
    gpu_name_sets,
    gpu_tokens,
    squash,
)
from llm_tco.catalog.prices import ApiPriceQuote, GenaiPriceIndex, PriceDisagreement
from llm_tco.catalog.schema import (
    ApiPrice,
    GpuSpec,
    ModelArch,
    OpsDefault,
    ProviderTerms,
    ProvisionedRow,
    RateLimitRow,
    RentalOffer,
)
from llm_tco.errors import CatalogDataError, CatalogLookupError

DATA_DIR = Path(__file__).parent
# libyaml's loader when present: the catalog loads ~5x faster, which counts at CLI start-up.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
RowT = TypeVar("RowT", bound=BaseModel)
# Suffixes a Hugging Face repo name adds to an architecture: chat tuning, quantisation, dates.
HF_SUFFIX = re.compile(
    r"-(instruct|chat|it|hf|base|thinking|fp8|fp8-dynamic|awq|gptq|int4|int8|w\d+a\d+|"
    r"quantized\.w\d+a\d+|bf16|fp16|nvfp4|mxfp4|fp4|gguf|q\d-k-[sml]|q\d-0|\d{4})$"
)
NamedRowT = TypeVar("NamedRowT", GpuSpec, ModelArch)
T = TypeVar("T")
# Results derived from a catalog that one catalog keeps (see Catalog.derived); past this many
# the store starts again, so a long-running server holds a bounded amount.
DERIVED_ENTRIES = 1024


@functools.lru_cache(maxsize=8192)
def normalise_name(name: str) -> str:
    """Lower-case, unify separators: 'H100 SXM' and 'h100_sxm' both become 'h100-sxm'."""
    return re.sub(r"[\s_/]+", "-", name.strip().lower())


def suggest(name: str, candidates: Iterable[str], n: int = 5) -> list[str]:
    """The ``n`` candidates closest to ``name``, best first.

    Names that contain what was typed come first (closest first), then near spellings.
    """
    pool = sorted(set(candidates))
    key = normalise_name(name)
    if not key:
        return []

    def closeness(candidate: str) -> float:
        return difflib.SequenceMatcher(None, key, candidate).ratio()

    contains = sorted((c for c in pool if key in c), key=lambda c: (-closeness(c), c))
    close = difflib.get_close_matches(key, pool, n=n, cutoff=0.5)
    return list(dict.fromkeys(contains + close))[:n]


def read_rows(path: Path, row_type: type[RowT]) -> list[RowT]:
    """Read a YAML list of rows, validating each; errors name the file and the row."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogDataError(f"cannot read catalog file: {exc}", field=str(path.name)) from exc
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise CatalogDataError("a catalog file must be a YAML list of rows", field=path.name)
    adapter = TypeAdapter(row_type)
    rows: list[RowT] = []
    for index, item in enumerate(raw):
        try:
            rows.append(adapter.validate_python(item))
        except ValidationError as exc:
            label = item.get("id", item.get("key", index)) if isinstance(item, dict) else index
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise CatalogDataError(
                f"row {index} ({label}): {where}: {first['msg']}", field=path.name
            ) from exc
    return rows


@dataclass(frozen=True)
class Catalog:
    """All catalog tables, with lookups that suggest close names on a miss."""

    gpus: tuple[GpuSpec, ...]
    offers: tuple[RentalOffer, ...]
    models: tuple[ModelArch, ...]
    api_prices: tuple[ApiPrice, ...]
    provider_terms: tuple[ProviderTerms, ...]
    ops_defaults: tuple[OpsDefault, ...]
    genai: GenaiPriceIndex = field(default_factory=GenaiPriceIndex)
    efficiency: tuple[EfficiencyRow, ...] = ()
    data_dir: Path | None = None
    rate_limits: tuple[RateLimitRow, ...] = ()
    provisioned: tuple[ProvisionedRow, ...] = ()

    @functools.cached_property
    def benchmarks(self) -> tuple[BenchmarkRow, ...]:
        """Published measurements (read on first use: only capacity validation needs them):
        ``benchmarks.yaml`` and one file per source document in ``measurements/``."""
        if self.data_dir is None:
            return ()
        files = [self.data_dir / "benchmarks.yaml"]
        files += sorted((self.data_dir / "measurements").glob("*.yaml"))
        return tuple(row for f in files if f.exists() for row in read_rows(f, BenchmarkRow))

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, kept under ``key`` for this catalog's life: for results that follow
        from the catalog's rows and ``key`` alone (a capacity-model run for one model, GPU,
        precision, layout and request shape), so a server pricing edit after edit of the same
        scenario does not repeat them. The caller makes ``key`` name every input."""
        store = self._derived
        if key in store:
            return store[key]  # type: ignore[no-any-return]
        value = compute()
        if len(store) >= DERIVED_ENTRIES:
            store.clear()
        store[key] = value
        return value

    @functools.cached_property
    def _derived(self) -> dict[Hashable, Any]:
        return {}

    # Lookup tables, built on first use (every evaluation looks names up several times).
    @functools.cached_property
    def _gpu_names(self) -> dict[str, GpuSpec]:
        return _names(self.gpus)

    @functools.cached_property
    def _model_names(self) -> dict[str, ModelArch]:
        return _names(self.models)

    @functools.cached_property
    def _offer_ids(self) -> dict[str, RentalOffer]:
        return {o.id: o for o in self.offers}

    @functools.cached_property
    def _api_rows(self) -> dict[str, list[ApiPrice]]:
        """Normalised id or alias -> our API price rows with that name, in catalog order."""
        rows: dict[str, list[ApiPrice]] = {}
        for row in self.api_prices:
            for key in dict.fromkeys([normalise_name(row.id), *map(normalise_name, row.aliases)]):
                rows.setdefault(key, []).append(row)
        return rows

    @functools.cached_property
    def weights_names(self) -> frozenset[str]:
        """Every normalised name a model of the architecture catalog goes by: id, aliases and
        its Hugging Face repo name without the organisation."""
        names: set[str] = set()
        for arch in self.models:
            names |= {arch.id, *(normalise_name(a) for a in arch.aliases)}
            if arch.hf_repo:
                names.add(normalise_name(arch.hf_repo.split("/")[-1]))
        return frozenset(names)

    # --- GPUs -----------------------------------------------------------------------------
    def gpu(self, name: str) -> GpuSpec:
        """A GPU by id or alias; by family name as people say it (``h100``, ``a100``): the
        variant of that family the catalog's rental offers list most, then the one with most
        published measurements; or as vendors and tools spell it ("NVIDIA H100 80GB HBM3",
        "A100-SXM4-80GB", "MI300X OAM"): the row carrying every token of the name (see
        ``names.gpu_tokens``), the variant ranked the same way where several do. See
        ``gpu_assumption`` for what a name was read as."""
        try:
            return _lookup(name, self.gpus, self._gpu_names, "GPU", "llm-tco catalog gpus")
        except CatalogLookupError as missed:
            found = self._gpu_family_default(name) or self._gpu_by_tokens(name)
            if found is not None:
                return found[0]
            counted = _COUNTED_GPU.match(name.strip())
            if counted is not None:
                # "8xH100", "8 x H200": the count goes in its own option, the GPU alone here.
                raise CatalogLookupError(
                    missed.message,
                    field=missed.field,
                    hint=f"give the GPU alone and the count apart: '{counted[2]}' with "
                    f"-n {counted[1]}, or gpu_count in a scenario",
                ) from None
            raise

    def gpu_assumption(self, name: str) -> str | None:
        """What a family or vendor name was read as, e.g. "h100 read as h100-sxm-80gb (...)";
        None when ``name`` is an id or alias."""
        try:
            _lookup(name, self.gpus, self._gpu_names, "GPU", "llm-tco catalog gpus")
            return None
        except CatalogLookupError:
            found = self._gpu_family_default(name)
            by_tokens = found is None
            if by_tokens:
                found = self._gpu_by_tokens(name)
        if found is None:
            return None
        gpu, others = found
        read = f"GPU '{name}' read as {gpu.id} ({gpu.name})"
        if not others:
            if by_tokens:
                return f"{read}: the catalog's only GPU with that model, form factor and memory"
            return f"{read}, the catalog's only variant"
        return (
            f"{read}, the variant rental offers (then published measurements) list most; "
            f"other variants: {', '.join(o.id for o in others)}"
        )

    def _gpu_family_default(self, name: str) -> tuple[GpuSpec, list[GpuSpec]] | None:
        """The family's most-offered (then most-measured) variant and the others, when one leads."""
        key = normalise_name(name)
        if not key:
            return None

        def names(g: GpuSpec) -> list[str]:
            return [g.id, *(normalise_name(a) for a in g.aliases)]

        family = [g for g in self.gpus if any(n.startswith(key + "-") for n in names(g))]
        if not family or len({gpu_identity(g) for g in family}) > 1:
            # None, or different GPUs ("rtx-4000": the Ada card and the SFF card): suggestions.
            return None
        return self._leading_variant(family)

    def _leading_variant(self, family: list[GpuSpec]) -> tuple[GpuSpec, list[GpuSpec]] | None:
        """The variant rental offers list most (ties: the one with more published measurements)
        and the others; None when two still tie."""
        offers = {g.id: len(self.offers_for(g.id)) for g in family}
        ranked = sorted(family, key=lambda g: (-offers[g.id], g.id))
        if len(ranked) > 1 and offers[ranked[0].id] == offers[ranked[1].id]:
            # Offers tie (e.g. none listed): the variant with more published measurements leads
            # (h200: the SXM part, not the NVL card).
            measured = Counter(row.gpu for row in self.benchmarks)
            usage = {g.id: (offers[g.id], measured[g.id]) for g in family}
            ranked = sorted(family, key=lambda g: (-usage[g.id][0], -usage[g.id][1], g.id))
            if usage[ranked[0].id] == usage[ranked[1].id]:
                return None  # truly ambiguous: the lookup error suggests the variants
        return ranked[0], ranked[1:]

    def _gpu_by_tokens(self, name: str) -> tuple[GpuSpec, list[GpuSpec]] | None:
        """A GPU named as a vendor or tool spells it: the row one of whose spellings has exactly
        the name's tokens, else the rows carrying all of them (then without a form-factor word
        such as "SXM" that a row may not spell out); several rows only when they are variants
        of one GPU (differing in form factor or memory), ranked by ``_leading_variant``."""
        typed = gpu_tokens(name)
        if not typed:
            return None
        for tokens in (typed, typed - OPTIONAL_FORM):
            if not tokens:
                continue
            exact = [g for g in self.gpus if tokens in gpu_name_sets(g)]
            if len(exact) == 1:
                return exact[0], []
            # Without the form word, a row of another form (a PCIe or NVL card) cannot match.
            rows = self.gpus if tokens == typed else [g for g in self.gpus if not gpu_is_card(g)]
            matches = [g for g in rows if tokens <= gpu_all_tokens(g)]
            if len(matches) == 1:
                return matches[0], []
            if len({gpu_identity(g) for g in matches}) == 1:
                return self._leading_variant(matches)
            if matches:
                return None  # different GPUs share these tokens: suggestions, not a guess
        return None

    def model(self, name: str) -> ModelArch:
        """A model by id or alias, or by its Hugging Face name (``meta-llama/Llama-3.1-8B``,
        ``Qwen/Qwen3-235B-A22B-Instruct-2507``): the repo itself, else its name without the
        organisation and without a chat/instruct or quantisation suffix; else the name with its
        separators and a benchmark suite's suffix dropped (MLPerf's ``llama2-70b-99.9`` is
        ``llama-2-70b``), where that picks one model."""
        try:
            return _lookup(name, self.models, self._model_names, "model", "llm-tco catalog models")
        except CatalogLookupError:
            found = self._model_by_hf_name(name)
            if found is None:
                raise
            return found

    @functools.cached_property
    def _model_spellings(self) -> tuple[dict[str, ModelArch], dict[str, ModelArch]]:
        """(normalised id, alias or repo name -> row; squashed spelling -> row). A squashed
        spelling two models share is left out: it names neither for sure."""
        by_name: dict[str, ModelArch] = {}
        for m in self.models:
            for n in (m.id, *(normalise_name(a) for a in m.aliases)):
                by_name.setdefault(n, m)
            if m.hf_repo:
                by_name.setdefault(normalise_name(m.hf_repo.split("/")[-1]), m)
        owners: dict[str, set[str]] = {}
        rows: dict[str, ModelArch] = {}
        for n, m in by_name.items():
            key = squash(n)
            owners.setdefault(key, set()).add(m.id)
            rows[key] = m
        return by_name, {k: rows[k] for k, ids in owners.items() if len(ids) == 1}

    def _model_by_hf_name(self, name: str) -> ModelArch | None:
        repos = {normalise_name(m.hf_repo): m for m in self.models if m.hf_repo}
        full = normalise_name(name)
        if full in repos:
            return repos[full]
        tail = name.strip().split("/")[-1]
        candidates = [normalise_name(tail)]
        stripped = normalise_name(tail)
        while True:
            shorter = HF_SUFFIX.sub("", stripped)
            if shorter == stripped or not shorter:
                break
            stripped = shorter
            candidates.append(stripped)
        by_name, by_squash = self._model_spellings
        for candidate in candidates:
            if candidate in by_name:
                return by_name[candidate]
        for candidate in candidates:
            if squash(candidate) in by_squash:
                return by_squash[squash(candidate)]
        return None

    # --- offers ---------------------------------------------------------------------------
    def offers_for(self, gpu_id: str, provider: str | None = None) -> list[RentalOffer]:
        rows = [o for o in self.offers if o.gpu == gpu_id]
        if provider is not None:
            rows = [o for o in rows if normalise_name(o.provider) == normalise_name(provider)]
        return rows

    def offer(self, ref: str, gpu_id: str) -> RentalOffer:
        """An offer by id, or the on-demand single-GPU offer of a provider for ``gpu_id``."""
        key = normalise_name(ref)
        if key in self._offer_ids:
            return self._offer_ids[key]
        rows = self.offers_for(gpu_id, key)
        if rows:
            # The newest on-demand single-GPU list price first.
            rows.sort(key=lambda o: (o.billing != "on-demand", o.gpu_count, -o.as_of.toordinal()))
            return rows[0]
        providers = sorted({normalise_name(o.provider) for o in self.offers_for(gpu_id)})
        if providers:
            hint = f"offers for {gpu_id} come from: {', '.join(providers)}"
        else:
            hint = f"no offer for {gpu_id} in the catalog; give gpu_hourly_price instead"
        raise CatalogLookupError(f"no offer '{ref}' for GPU {gpu_id}", hint=hint)

    # --- API prices -----------------------------------------------------------------------
    def api_price(
        self,
        name: str,
        provider: str | None = None,
        tier: str = "standard",
        region: str | None = None,
    ) -> ApiPriceQuote:
        """Price of an API model: our YAML rows first, then genai-prices.

        ``tier`` (standard, flex, priority, batch) and ``region`` select genai-prices' price
        variants; a quote says in ``tier_found``/``region_found`` when there was none. Where
        one of our rows overrides genai-prices, the quote carries genai-prices' figures in
        ``disagreement`` if they differ."""
        if provider is None and "/" in name:
            provider, name = name.split("/", 1)
        own = self._api_rows.get(normalise_name(name), [])
        # Our rows override genai-prices for their provider (a newer published price, with its
        # source); otherwise they answer for models genai-prices lacks.
        for row in own:
            if provider is not None and normalise_name(provider) == row.provider:
                return self._own_quote(row, name, tier)
        quote = self.genai.find(name, provider, tier=tier, region=region)
        if quote is not None:
            for row in own:
                if normalise_name(quote.provider) == row.provider:
                    return self._own_quote(row, name, tier)
            discount = self.batch_discount(quote.provider)
            return quote.model_copy(update={"batch_discount": discount})
        if own and provider is None:
            return self._own_quote(own[0], name, tier)
        candidates = [row.id for row in self.api_prices] + self.genai.names()
        close = suggest(name, candidates)
        hint = f"did you mean {', '.join(close)}?" if close else "see `llm-tco catalog apis`"
        raise CatalogLookupError(f"unknown API model '{name}'", hint=hint)

    def _own_quote(self, row: ApiPrice, name: str, tier: str) -> ApiPriceQuote:
        quote = ApiPriceQuote.from_row(row, self.batch_discount(row.provider))
        if tier != "standard":
            quote = quote.model_copy(update={"tier": tier, "tier_found": False})
        other = self.genai.find(name, row.provider)
        if other is None:
            return quote
        differs = any(
            abs(a - b) > 0.005 * max(b, 1e-9)
            for a, b in (
                (row.input_per_mtok, other.input_per_mtok),
                (row.output_per_mtok, other.output_per_mtok),
            )
        )
        if not differs:
            return quote
        disagreement = PriceDisagreement(
            input_per_mtok=other.input_per_mtok,
            output_per_mtok=other.output_per_mtok,
            source=other.source,
            as_of=other.checked_on or other.as_of,
        )
        return quote.model_copy(update={"disagreement": disagreement})

    def batch_discount(self, provider: str) -> float | None:
        for row in self.provider_terms:
            if normalise_name(row.provider) == normalise_name(provider):
                return row.batch_discount
        return None

    # --- rate limits and provisioned throughput -------------------------------------------
    def rate_limit(self, provider: str, model: str, tier: str) -> RateLimitRow:
        """The published limits of ``tier`` for ``model`` at ``provider``."""
        rows = [r for r in self.rate_limits if _same(r.provider, provider)]
        for row in rows:
            if _same(row.tier, tier) and any(_same(m, model) for m in row.models):
                return row
        tiers = sorted({r.tier for r in rows if any(_same(m, model) for m in r.models)})
        hint = (
            f"known tiers for {model}: {', '.join(tiers)}"
            if tiers
            else "give the account's limits (requests_per_minute, tokens_per_minute ...)"
        )
        raise CatalogLookupError(
            f"no published rate limits for {model} at {provider} tier '{tier}'", hint=hint
        )

    def rate_limit_tiers(self, provider: str, model: str) -> list[RateLimitRow]:
        """Every tier's limits for ``model`` at ``provider``, in catalog order."""
        return [
            r
            for r in self.rate_limits
            if _same(r.provider, provider) and any(_same(m, model) for m in r.models)
        ]

    def provisioned_offer(self, ref: str) -> ProvisionedRow:
        for row in self.provisioned:
            if _same(row.id, ref):
                return row
        close = suggest(ref, [row.id for row in self.provisioned])
        hint = f"did you mean {', '.join(close)}?" if close else "see catalog/provisioned.yaml"
        raise CatalogLookupError(f"unknown provisioned offer '{ref}'", hint=hint)

    # --- ops defaults ---------------------------------------------------------------------
    def ops_default(self, key: str) -> OpsDefault:
        for row in self.ops_defaults:
            if row.key == key:
                return row
        raise CatalogDataError(f"ops default '{key}' missing from ops.yaml")


def _same(a: str, b: str) -> bool:
    """Names equal up to case, separators and dots ('Tier 4' = 'tier-4', 4.5 = 4-5)."""
    return normalise_name(a).replace(".", "-") == normalise_name(b).replace(".", "-")


_COUNTED_GPU = re.compile(r"^(\d+)\s*[x×*]\s*(\S.*)$", re.IGNORECASE)


def _names(rows: Sequence[NamedRowT]) -> dict[str, NamedRowT]:
    """Id and normalised aliases -> row (a later row's alias wins, as before)."""
    names: dict[str, NamedRowT] = {}
    for row in rows:
        names[row.id] = row
        for alias in row.aliases:
            names[normalise_name(alias)] = row
    return names


def _lookup(
    name: str, rows: Sequence[NamedRowT], names: dict[str, NamedRowT], kind: str, listing: str
) -> NamedRowT:
    """A row by id or alias (``names``: :func:`_names` of ``rows``); a miss suggests the
    closest ids."""
    key = normalise_name(name)
    if key in names:
        return names[key]
    close = suggest(key, [row.id for row in rows])
    hint = f"did you mean {', '.join(close)}?" if close else f"see `{listing}`"
    raise CatalogLookupError(f"unknown {kind} '{name}'", hint=hint)


def offers_cache_path() -> Path:
    """Where `llm-tco catalog refresh-offers` caches offers: ``offers.json`` in
    :func:`llm_tco.cache.cache_dir`. JSON, not YAML: a refresh can hold thousands of rows and
    PyYAML builds 5,000 of them in ~2 s, JSON in a few ms."""
    return cache_dir() / "offers.json"


def load_catalog(data_dir: Path = DATA_DIR, offers_cache: Path | None = None) -> Catalog:
    """Load every catalog table from ``data_dir`` (the shipped data by default), then the
    refreshed offers in ``offers_cache`` (default :func:`offers_cache_path`) when it exists,
    and the API price data `llm-tco catalog refresh-prices` saved, when there is one.

    Loaded once per folder, cache file and cache-file version (mtime, size): a refresh is seen
    at once, and a test that points ``LLM_TCO_CACHE_DIR`` elsewhere gets its own catalog.
    """
    from llm_tco.catalog.price_refresh import saved_data_file

    cache = offers_cache if offers_cache is not None else offers_cache_path()
    prices = saved_data_file()
    price_version = _version(prices) if prices is not None else None
    return _load_catalog(data_dir, cache, _version(cache), prices, price_version)


def _version(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _load_catalog(
    data_dir: Path,
    offers_cache: Path,
    cache_version: tuple[int, int] | None,
    prices: Path | None = None,
    price_version: tuple[int, int] | None = None,
) -> Catalog:
    def table(file: str, row_type: type[RowT]) -> tuple[RowT, ...]:
        path = data_dir / file
        return tuple(read_rows(path, row_type)) if path.exists() else ()

    offers = table("offers.yaml", RentalOffer)
    if cache_version is not None:
        offers += _cached_offers(offers_cache, {o.id for o in offers})
    return Catalog(
        gpus=table("gpus.yaml", GpuSpec),
        offers=offers,
        models=table("models.yaml", ModelArch),
        api_prices=table("api_prices.yaml", ApiPrice),
        provider_terms=table("provider_terms.yaml", ProviderTerms),
        ops_defaults=table("ops.yaml", OpsDefault),
        genai=GenaiPriceIndex(prices),
        efficiency=table("efficiency.yaml", EfficiencyRow),
        data_dir=data_dir,
        rate_limits=table("rate_limits.yaml", RateLimitRow),
        provisioned=table("provisioned.yaml", ProvisionedRow),
    )


def read_offer_cache(path: Path) -> list[RentalOffer]:
    """The offers in a cache file written by `llm-tco catalog refresh-offers`."""
    fix = "rerun `llm-tco catalog refresh-offers` or delete the file"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return TypeAdapter(list[RentalOffer]).validate_python(data["offers"])
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CatalogDataError(f"row {where}: {first['msg']}", field=str(path), hint=fix) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CatalogDataError(
            f"cannot read cached offers: {exc}", field=str(path), hint=fix
        ) from None


def _cached_offers(path: Path, shipped_ids: set[str]) -> tuple[RentalOffer, ...]:
    """Refreshed offers; their ids may not repeat a shipped id or each other."""
    rows = read_offer_cache(path)
    seen = set(shipped_ids)
    for row in rows:
        if row.id in seen:
            raise CatalogDataError(
                f"offer id '{row.id}' repeats",
                field=str(path),
                hint="rerun `llm-tco catalog refresh-offers` or delete the file",
            )
        seen.add(row.id)
    return tuple(rows)
