"""Hosted APIs that serve the same open-weight model: genai-prices' snapshot and our own rows.

Providers spell one model many ways (``zai-org/GLM-4.7``, ``z-ai/glm-4.7``, ``glm-4p7``,
``zai-glm-4.7``, ``meta-llama/Llama-3.3-70B-Instruct-Turbo``): a quote names the model when its
name, without the organisation, a provider prefix and serving suffixes (instruct, FP8, turbo,
fast), is the architecture's id, one of its aliases or its Hugging Face repo name. Variants that
are other models (``-flash``, ``-air``) keep their suffix and do not match; batch-only listings
(``:batch``) are left out since the batch discount is a term of the workload, not of the model.
"""

from __future__ import annotations

import datetime as dt
import re

from llm_tco.cache import cache_dir
from llm_tco.catalog.loader import HF_SUFFIX, Catalog, normalise_name
from llm_tco.catalog.prices import ApiPriceQuote, _data_stamp, _read_memo, _write_memo
from llm_tco.catalog.schema import ModelArch
from llm_tco.core.costs import ApiOption, api_line_items
from llm_tco.core.units import usd_per_mtok
from llm_tco.core.workload import Workload
from llm_tco.plan.model import HostedApi

SERVING_SUFFIX = re.compile(r"-(turbo|fast|serverless|tput|maas)$")
PROVIDER_PREFIX = re.compile(r"^(zai-org-|zai-|z-ai-|meta-|accounts-[a-z0-9-]+-models-)")


def model_key(name: str) -> str:
    """A quote's model name reduced to what names the architecture (see module doc)."""
    key = normalise_name(name.split("/")[-1])
    key = PROVIDER_PREFIX.sub("", key)
    key = re.sub(r"(\d)p(\d)", r"\1.\2", key)  # fireworks: glm-4p7
    while True:
        shorter = SERVING_SUFFIX.sub("", HF_SUFFIX.sub("", key))
        if shorter == key or not shorter:
            return key
        key = shorter


def arch_keys(arch: ModelArch) -> set[str]:
    names = {arch.id, *(normalise_name(a) for a in arch.aliases)}
    if arch.hf_repo:
        names.add(normalise_name(arch.hf_repo))
    return {model_key(n) for n in names}


_QUOTES: dict[int, tuple[Catalog, tuple[ApiPriceQuote, ...]]] = {}


def _genai_quotes(catalog: Catalog) -> tuple[ApiPriceQuote, ...]:
    """Every genai-prices quote (read once per catalog: loading the snapshot costs ~0.5 s)."""
    held = _QUOTES.get(id(catalog))
    if held is not None and held[0] is catalog:
        return held[1]
    quotes = tuple(catalog.genai.all_quotes())
    _QUOTES[id(catalog)] = (catalog, quotes)
    return quotes


def _genai_matches(arch: ModelArch, catalog: Catalog) -> list[ApiPriceQuote]:
    """genai-prices quotes for ``arch``, memoised on disk per data version and day (as
    ``GenaiPriceIndex.find`` does), so an evaluation need not load the snapshot."""
    day = dt.date.today().isoformat()
    memo = cache_dir() / f"hosted-apis-1-{_data_stamp()}-{day}.json"
    answers = _read_memo(memo)
    key = f"{arch.id}|{'|'.join(sorted(arch_keys(arch)))}"
    if key in answers:
        return [ApiPriceQuote.model_validate(q) for q in answers[key]]
    keys = arch_keys(arch)
    found = [q for q in _genai_quotes(catalog) if ":" not in q.model and model_key(q.model) in keys]
    answers[key] = [q.model_dump(mode="json") for q in found]
    _write_memo(memo, answers)
    return found


def hosted_quotes(arch: ModelArch, catalog: Catalog) -> list[ApiPriceQuote]:
    """Every quote that serves ``arch``; our own rows win over genai-prices for a provider."""
    keys = arch_keys(arch)
    own = [
        ApiPriceQuote.from_row(row, catalog.batch_discount(row.provider))
        for row in catalog.api_prices
        if row.open_weight and model_key(row.id) in keys
    ]
    found: dict[tuple[str, str], ApiPriceQuote] = {}
    for quote in [*own, *_genai_matches(arch, catalog)]:
        found.setdefault((normalise_name(quote.provider), normalise_name(quote.model)), quote)
    return list(found.values())


def price_hosted(quotes: list[ApiPriceQuote], workload: Workload) -> list[HostedApi]:
    """Each quote's monthly cost for ``workload`` (the API cost formula), cheapest first."""
    rows = []
    for quote in quotes:
        cached = quote.cached_input_per_mtok
        option = ApiOption(
            name=f"{quote.provider}/{quote.model}",
            input_per_mtok=quote.input_per_mtok,
            output_per_mtok=quote.output_per_mtok,
            cached_input_per_mtok=quote.input_per_mtok if cached is None else cached,
            batch_discount=quote.batch_discount or 0.0,
        )
        monthly = float(sum(api_line_items(option, workload).values()))
        rows.append(
            HostedApi(
                provider=quote.provider,
                model=quote.model,
                input_per_mtok=quote.input_per_mtok,
                output_per_mtok=quote.output_per_mtok,
                cached_input_per_mtok=cached,
                monthly_cost=monthly,
                cost_per_mtok=usd_per_mtok(monthly, workload.total_tokens_per_month),
                source=quote.source,
                as_of=quote.as_of,
            )
        )
    rows.sort(key=lambda r: (r.monthly_cost, r.provider, r.model))
    return rows
