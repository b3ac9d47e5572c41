"""OpenTelemetry GenAI spans: OTLP-JSON (collector file exporter) or SDK console JSON.

GenAI semantic conventions: ``gen_ai.usage.input_tokens`` (all input tokens, cached included),
``gen_ai.usage.output_tokens``, ``gen_ai.usage.cache_read.input_tokens``,
``gen_ai.request.model``, ``gen_ai.response.model``, ``gen_ai.operation.name``; older spans use
``gen_ai.usage.prompt_tokens`` / ``gen_ai.usage.completion_tokens``. OTLP-JSON nests spans as
``resourceSpans[].scopeSpans[].spans[]`` with ``startTimeUnixNano`` and attributes as a list of
``{"key", "value": {"intValue" | "stringValue" | ...}}``; the console exporter writes one span
per object with ``start_time`` and an ``attributes`` dict. The resource's ``service.name`` is the
workload tag. Spans with no ``gen_ai.*`` attribute are skipped (counted, not rejected).
"""

from __future__ import annotations

from collections.abc import Callable

SIGNATURES = (
    ("resourceSpans",),
    ("gen_ai.usage.input_tokens",),
    ("gen_ai.usage.prompt_tokens",),
)

# OTLP attribute list -> a flat JSON object {key: value-as-text}.
_FLATTEN = (
    "CAST(map_from_entries(list_transform(coalesce(json_extract({list}, '$[*]'), []), "
    "lambda a: struct_pack(k := json_extract_string(a, '$.key'), "
    "v := coalesce(json_extract_string(a, '$.value.stringValue'), "
    "json_extract_string(a, '$.value.intValue'), json_extract_string(a, '$.value.doubleValue'), "
    "json_extract_string(a, '$.value.boolValue'))))) AS JSON)"
)
_SPAN_ATTRIBUTES = "json_extract(span, '$.attributes')"
_RESOURCE_ATTRIBUTES = "json_extract(resource, '$.resource.attributes')"


def records(docs: str) -> str:
    """One record per span: OTLP spans flattened with their resource's attributes, or the
    console exporter's span objects as they are."""
    resources = (
        "(SELECT doc, unnest(json_extract(doc, '$.resourceSpans[*]')) AS resource "
        f"FROM {docs} WHERE NOT bad AND json_type(doc, '$.resourceSpans') = 'ARRAY')"
    )
    spans = (
        "(SELECT resource, unnest(json_extract(resource, '$.scopeSpans[*].spans[*]')) AS span "
        f"FROM {resources})"
    )
    otlp = (
        "SELECT json_object('span_id', span->'spanId', 'start', span->'startTimeUnixNano', "
        f"'attributes', {_FLATTEN.format(list=_SPAN_ATTRIBUTES)}, "
        f"'resource', {_FLATTEN.format(list=_RESOURCE_ATTRIBUTES)}) AS rec FROM {spans}"
    )
    console = (
        "SELECT json_object('span_id', doc->'$.context.span_id', 'start', doc->'start_time', "
        "'attributes', doc->'attributes', 'resource', doc->'$.resource.attributes') AS rec "
        f"FROM {docs} WHERE NOT bad AND json_type(doc, '$.resourceSpans') IS NULL"
    )
    return f"({otlp} UNION ALL {console})"


def fields(get: Callable[..., str]) -> dict[str, str]:
    def attr(*names: str) -> str:
        return get(*(f'$.attributes."{n}"' for n in names))

    genai_keys = "list_filter(json_keys(rec, '$.attributes'), lambda k: k LIKE 'gen_ai.%')"
    return {
        "request_id": get("$.span_id"),
        "ts": get("$.start"),
        "model": attr("gen_ai.response.model", "gen_ai.request.model"),
        "input_tokens": attr("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"),
        "output_tokens": attr("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"),
        "cached_input_tokens": attr(
            "gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens"
        ),
        "requests": "1",
        "tag": get('$.resource."service.name"'),
        "skipped": f"CASE WHEN len(coalesce({genai_keys}, [])) = 0 THEN 'not_a_genai_span' END",
    }
