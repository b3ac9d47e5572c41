"""The web app: a page to build a scenario and see its costs, over a JSON API.

Every endpoint takes the scenario format the CLI reads (JSON, or YAML with a YAML content type)
and answers with the same pydantic models the CLI prints; errors share one shape
(:mod:`llm_tco.web.errors`). Nothing here computes a cost.
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from llm_tco import documents
from llm_tco.catalog.loader import Catalog, load_catalog
from llm_tco.core.units import parse_quantity
from llm_tco.decide_result import Recommendation
from llm_tco.errors import ScenarioError
from llm_tco.evaluate import evaluate
from llm_tco.report.view import Report, build_report
from llm_tco.result import Result
from llm_tco.scenario import (
    MAX_QUANTITY,
    MAX_SAMPLES,
    MIN_POSITIVE,
    Scenario,
    scenario_from_data,
)
from llm_tco.web.catalog_api import LISTINGS, listing
from llm_tco.web.errors import BodyLimitMiddleware, error_body, install_error_handlers
from llm_tco.web.guards import LOOPBACK_NAMES, RequestGuard


def build_view_report(scenario: Any, catalog: Any) -> Report:
    """What the page shows on each edit: the report without the deployment search, which the
    page fetches from ``/api/ways`` once the view is drawn."""
    return build_report(scenario, catalog, suggest=False)


def ways_payload(scenario: Any, catalog: Any) -> str:
    """``{"tables": ..., "charts": ...}``: the suggestions and ways-to-serve tables and the cost
    vs latency scatter, from the same search `llm-tco evaluate` and the reports run."""
    import json

    from llm_tco.report.ways_view import ways_charts, ways_tables

    result = evaluate_with_suggestions(scenario, catalog)
    tables = {name: table.model_dump(mode="json") for name, table in ways_tables(result).items()}
    return json.dumps({"tables": tables, "charts": ways_charts(result)})


def evaluate_with_suggestions(scenario: Any, catalog: Any) -> Any:
    """The result `llm-tco evaluate` prints: with suggestions."""
    return evaluate(scenario, catalog, suggest=True)


MAX_OPTIONS = 50  # a page of options; more makes the break-even table (options^2) unreadable
MAX_VOLUMES = 1000
# Evaluations run in worker threads, this many at a time; the rest wait without a thread, so
# the event loop (and /api/health) keeps the interpreter lock often enough to answer at once.
COMPUTE_SLOTS = 2
PATH_FIELDS = ("from_logs", "bench_result")
CatalogKind = Literal["apis", "gpus", "offers", "models"]
assert set(LISTINGS) == {"apis", "gpus", "offers", "models"}

# The page opens on "Open Source LLMs as Cost Floor", scenario 1: 10M requests of 1K input +
# 200 output tokens; Llama 3.3 70B on A100s at $1,500 each, $2,000 ops, $0.10/MTok variable,
# with as many GPUs as the peak needs (the article's 4 cannot carry it), so both options serve.
DEFAULT_SCENARIO: dict[str, Any] = {
    "name": "Haiku 4.5 vs self-hosted Llama 3.3 70B",
    "workload": {
        "requests_per_month": "10M",
        "input_tokens_per_request": 1000,
        "output_tokens_per_request": 200,
    },
    "options": [
        {"name": "claude-haiku-4.5", "api": {"model": "claude-haiku-4.5"}},
        {
            "name": "llama-3.3-70b",
            "self_hosted": {
                "model": "llama-3.3-70b",
                "precision": "bf16",
                "gpu": "a100-80gb-sxm",
                "gpu_count": "auto",
                "gpu_monthly_price": 1500,
                "ops_monthly": 2000,
                "variable_per_mtok": 0.1,
            },
        },
    ],
    "sweep": ["120M", "1.2B", "6B", "12B", "24B"],
}

SWEEP_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["scenario", "volumes"],
                    "properties": {
                        "scenario": {"$ref": "#/components/schemas/Scenario"},
                        "volumes": {
                            "type": "array",
                            "items": {"type": ["string", "number"]},
                            "description": 'tokens/month, e.g. ["50M", 1e9]',
                        },
                    },
                }
            }
        },
    }
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "the Host header does not name this server"},
    401: {"description": "the server needs its access token (non-loopback address)"},
    413: {"description": "request body over 5 MB"},
    415: {"description": "a POST body that is not application/json or application/yaml"},
    422: {"description": "malformed body or invalid scenario; `errors[].field` names the field"},
}
SCENARIO_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Scenario"}},
            "application/yaml": {"schema": {"type": "string"}},
        },
    }
}


def parse_document(body: bytes, content_type: str) -> Any:
    """JSON, or YAML for ``application/yaml``, within :mod:`llm_tco.documents`' bounds."""
    if not body.strip():
        raise ScenarioError("empty request body", field="body", hint="send a scenario as JSON")
    text = documents.decode_text(body, "body")
    media = content_type.split(";")[0].strip().lower()
    return documents.parse_document(text, "yaml" if media == "application/yaml" else "json", "body")


def _inside(folder: Path, name: str, field: str) -> str:
    """``name`` resolved inside ``folder``: relative, no ``..``, no symlink out, a regular file."""
    hint = "name a file inside the server's data folder, relative to it"
    relative = Path(name)
    if relative.is_absolute() or ".." in relative.parts or not name.strip():
        raise ScenarioError("must be a relative path without '..'", field=field, hint=hint)
    root = folder.resolve()
    try:
        target = (root / relative).resolve(strict=True)
    except (OSError, RuntimeError):
        raise ScenarioError("no such file in the server's data folder", field=field) from None
    if not target.is_relative_to(root):
        raise ScenarioError("leads outside the server's data folder", field=field, hint=hint)
    if not target.is_file():
        raise ScenarioError("not a regular file", field=field, hint=hint)
    return str(target)


def resolve_paths(scenario: Scenario, data_dir: Path | None, prefix: str = "") -> Scenario:
    """Refuse (422) or confine the scenario's file names: the server opens no file a request
    names, unless the operator gave a data folder, and then only files inside it."""

    def check(name: str, field: str) -> str:
        if data_dir is None:
            raise ScenarioError(
                "the web server reads no files named in a request",
                field=prefix + field,
                hint="run this scenario with the CLI, or start `llm-tco serve --data-dir DIR` "
                "and name a file inside DIR",
            )
        return _inside(data_dir, name, prefix + field)

    workload = scenario.workload
    if workload.from_logs is not None:
        workload = workload.model_copy(
            update={"from_logs": check(workload.from_logs, "workload.from_logs")}
        )
    options = []
    for i, option in enumerate(scenario.options):
        hosted = option.self_hosted
        if hosted is not None and hosted.bench_result is not None:
            field = f"options[{i}:{option.name}].self_hosted.bench_result"
            hosted = hosted.model_copy(update={"bench_result": check(hosted.bench_result, field)})
            option = option.model_copy(update={"self_hosted": hosted})
        options.append(option)
    return scenario.model_copy(update={"workload": workload, "options": options})


def check_scenario(data: Any, field: str = "", data_dir: Path | None = None) -> Scenario:
    """Validate a parsed scenario, with the web's size guards and file-name rules."""
    prefix = f"{field}." if field else ""
    try:
        scenario = scenario_from_data(data, origin=field or "scenario")
    except ScenarioError as exc:
        exc.field = prefix + exc.field if exc.field else field or "scenario"
        raise
    if len(scenario.options) > MAX_OPTIONS:
        raise ScenarioError(f"at most {MAX_OPTIONS} options", field=f"{prefix}options")
    if len(scenario.sweep) > MAX_VOLUMES:
        raise ScenarioError(f"at most {MAX_VOLUMES} sweep volumes", field=f"{prefix}sweep")
    return resolve_paths(scenario, data_dir, prefix)


def parse_volumes(values: Any) -> list[float]:
    if not isinstance(values, list) or not values:
        raise ScenarioError("a non-empty list of volumes", field="volumes", hint='e.g. ["1B"]')
    if len(values) > MAX_VOLUMES:
        raise ScenarioError(f"at most {MAX_VOLUMES} volumes", field="volumes")
    volumes = []
    for i, value in enumerate(values):
        try:
            volume = parse_quantity(value)
        except ValueError as exc:
            raise ScenarioError(str(exc), field=f"volumes[{i}]") from None
        if not MIN_POSITIVE <= volume <= MAX_QUANTITY:
            raise ScenarioError(
                f"volumes must be between {MIN_POSITIVE:g} and {MAX_QUANTITY:g}",
                field=f"volumes[{i}]",
            )
        volumes.append(volume)
    return volumes


async def read_body(request: Request) -> tuple[bytes, str]:
    return await request.body(), request.headers.get("content-type", "")


def _parse_and_check(app: FastAPI, body: bytes, content_type: str) -> Scenario:
    return check_scenario(parse_document(body, content_type), data_dir=app.state.data_dir)


async def offload(app: FastAPI, func: Callable[..., Any], *args: Any) -> Any:
    """Run ``func`` in a worker thread, at most COMPUTE_SLOTS at a time."""
    async with app.state.compute_slots:
        return await run_in_threadpool(func, *args)


async def read_scenario(request: Request) -> Scenario:
    """The request's scenario, parsed and validated off the event loop."""
    body, content_type = await read_body(request)
    scenario: Scenario = await offload(
        request.app, _parse_and_check, request.app, body, content_type
    )
    return scenario


def _dumped(func: Callable[..., Result | Report | Recommendation]) -> Callable[..., str]:
    """``func`` whose result is serialised in the same worker thread (it can take a while)."""

    def run(*args: Any) -> str:
        # The CLI's serialiser, so `--format json` and the API print the same numbers.
        return func(*args).model_dump_json()

    return run


def json_response(payload: str) -> Response:
    return Response(payload, media_type="application/json")


def create_app(
    catalog: Catalog | None = None,
    *,
    allowed_hosts: Iterable[str] | None = LOOPBACK_NAMES,
    token: str | None = None,
    data_dir: Path | None = None,
) -> FastAPI:
    """The app; ``catalog`` defaults to the packaged catalog (tests pass their own).

    ``allowed_hosts``: the Host names requests may use (None: any; `serve` passes the bound
    address). ``token``: required on every request when set (`serve` sets one off loopback).
    ``data_dir``: the only folder whose files a scenario's ``from_logs`` / ``bench_result``
    may name; without it those fields are refused.
    """
    app = FastAPI(
        title="llm-tco",
        summary="Monthly cost of serving an LLM workload each way, break-evens and sweeps.",
        responses=ERROR_RESPONSES,
    )
    install_error_handlers(app)
    # Outermost first: the body limit, then Host / token / body type, then the app.
    hosts = None if allowed_hosts is None else frozenset(h.lower() for h in allowed_hosts)
    app.add_middleware(RequestGuard, allowed_hosts=hosts, token=token)
    app.add_middleware(BodyLimitMiddleware)
    app.state.catalog = catalog or load_catalog()
    app.state.data_dir = data_dir
    app.state.compute_slots = asyncio.Semaphore(COMPUTE_SLOTS)
    _add_api_routes(app)
    _add_page_routes(app)
    _add_openapi_schemas(app)
    return app


def _add_api_routes(app: FastAPI) -> None:
    def catalog() -> Catalog:
        return app.state.catalog  # type: ignore[no-any-return]

    @app.get("/api/health")
    async def health() -> dict[str, Any]:  # on the event loop: never queued behind work
        c = catalog()
        counts = {"gpus": len(c.gpus), "offers": len(c.offers), "models": len(c.models)}
        return {"ok": True, "catalog": counts}

    @app.post("/api/evaluate", response_model=Result, openapi_extra=SCENARIO_BODY)
    async def evaluate_endpoint(request: Request) -> Response:
        """Evaluate a scenario: the result `llm-tco evaluate FILE --format json` prints."""
        scenario = await read_scenario(request)
        # With suggestions, as `llm-tco evaluate` prints them.
        return json_response(
            await offload(app, _dumped(evaluate_with_suggestions), scenario, catalog())
        )

    @app.post("/api/sweep", response_model=Result, openapi_extra=SWEEP_BODY)
    async def sweep_endpoint(request: Request) -> Response:
        """The result with its sweep at ``volumes`` (as `llm-tco sweep FILE --volumes ...`):
        a body ``{"scenario": {...}, "volumes": ["50M", 1e9]}``."""
        body, content_type = await read_body(request)

        def parse() -> tuple[Scenario, list[float]]:
            data = parse_document(body, content_type)
            if not isinstance(data, dict):
                raise ScenarioError("a mapping with `scenario` and `volumes`", field="body")
            unknown = sorted(str(k) for k in data if k not in ("scenario", "volumes"))
            if unknown:
                raise ScenarioError("unknown field", field=unknown[0])
            for key in ("scenario", "volumes"):
                if key not in data:
                    raise ScenarioError("missing required field", field=key)
            checked = check_scenario(data["scenario"], "scenario", data_dir=app.state.data_dir)
            return checked, parse_volumes(data["volumes"])

        checked, parsed = await offload(app, parse)
        return json_response(await offload(app, _dumped(evaluate), checked, catalog(), parsed))

    @app.post("/api/recommend", response_model=Recommendation, openapi_extra=SCENARIO_BODY)
    async def recommend_endpoint(
        request: Request,
        samples: Annotated[int, Query(ge=0, le=MAX_SAMPLES)] = 10_000,
        seed: Annotated[int | None, Query(ge=0, le=2**32 - 1)] = 0,
    ) -> Response:
        """The option to choose and why: what `llm-tco recommend FILE --json` prints, with the
        same defaults (10,000 simulated months, seed 0) for P10/P50/P90 and P(cheapest)."""
        from llm_tco.recommend_eval import recommend

        scenario = await read_scenario(request)
        return json_response(
            await offload(app, _dumped(recommend), scenario, samples, seed, catalog())
        )

    @app.post("/api/view", response_model=Report, openapi_extra=SCENARIO_BODY)
    async def view_endpoint(request: Request) -> Response:
        """What the page shows: the result, the recommendation (a 2,000-month simulation, seed 0,
        when the scenario has ranges), the tornado, the tables as display strings, and the chart
        specs."""
        # Parsed, priced and serialised in one worker thread: a page edit waits for one hand-off.
        body, content_type = await read_body(request)

        def view() -> str:
            scenario = _parse_and_check(app, body, content_type)
            return build_view_report(scenario, catalog()).model_dump_json()

        return json_response(await offload(app, view))

    @app.post("/api/ways", openapi_extra=SCENARIO_BODY)
    async def ways_endpoint(request: Request) -> Response:
        """The page's "ways to serve" tables and scatter: the deployment search for each
        self-hosted model, asked for after the view so an edit is not held up by it."""
        scenario = await read_scenario(request)
        return json_response(await offload(app, ways_payload, scenario, catalog()))

    @app.post("/api/parse", openapi_extra=SCENARIO_BODY)
    async def parse_endpoint(request: Request) -> dict[str, Any]:
        """Check a scenario (YAML or JSON) and return it as JSON, for the page's form."""
        body, content_type = await read_body(request)

        def parse() -> Any:
            data = parse_document(body, content_type)
            check_scenario(data, data_dir=app.state.data_dir)
            return data

        return {"ok": True, "scenario": await offload(app, parse)}

    @app.post("/api/report", openapi_extra=SCENARIO_BODY)
    async def report_endpoint(request: Request, format: Literal["html", "md"] = "html") -> Response:
        """The report `llm-tco report` writes: one HTML file, or Markdown + PNG charts (zip)."""
        scenario = await read_scenario(request)
        report = await offload(app, build_report, scenario, catalog())
        if format == "html":
            from llm_tco.report.html import render_html

            page = await offload(app, render_html, report)
            return _download(page.encode(), "text/html", "llm-tco-report.html")
        payload = await offload(app, _markdown_zip, report)
        return _download(payload, "application/zip", "llm-tco-report.zip")

    @app.post("/api/bench/report", response_class=HTMLResponse)
    async def bench_report_endpoint(request: Request) -> HTMLResponse:
        """A benchmark result (`llm-tco bench`, GuideLLM or vllm bench serve JSON) as its own
        page: throughput against latency and $/MTok by load level, with the settings."""
        from llm_tco.bench.importers import result_from_data
        from llm_tco.report.bench_view import build_bench_report
        from llm_tco.report.html import render_bench_html

        data = parse_document(await request.body(), "application/json")
        result = result_from_data(data, where="body")
        report = await run_in_threadpool(build_bench_report, result)
        return HTMLResponse(render_bench_html(report))

    @app.get("/api/catalog/{kind}")
    def catalog_endpoint(
        kind: CatalogKind,
        search: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    ) -> dict[str, Any]:
        """Catalog rows (API prices, GPUs, rental offers, models) with source and as-of."""
        return listing(catalog(), kind, search, limit)


def _download(payload: bytes, media_type: str, filename: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(payload, media_type=media_type, headers=headers)


def _markdown_zip(report: Report) -> bytes:
    from llm_tco.report.charts import to_png
    from llm_tco.report.markdown import chart_files, render_markdown_report

    names = chart_files(report, "report")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report.md", render_markdown_report(report, names))
        for name, file in names.items():
            archive.writestr(file, to_png(report.charts[name]))
    return buffer.getvalue()


def _add_page_routes(app: FastAPI) -> None:
    web = resources.files("llm_tco.web")
    assets = resources.files("llm_tco.report") / "assets"
    app.mount("/static", StaticFiles(directory=str(web / "static")), name="static")
    app.mount("/assets", StaticFiles(directory=str(assets)), name="assets")
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("llm_tco.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )

    @app.get("/bench", response_class=HTMLResponse, include_in_schema=False)
    def bench_page() -> HTMLResponse:
        return HTMLResponse(env.get_template("bench.html.j2").render())

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        html = env.get_template("index.html.j2").render(default_scenario=DEFAULT_SCENARIO)
        return HTMLResponse(html)


def _add_openapi_schemas(app: FastAPI) -> None:
    """Publish the Scenario schema that the raw-body endpoints document."""
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = default_openapi()
            scenario = Scenario.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(scenario.pop("$defs", {}))
            components["Scenario"] = scenario
            components["Error"] = {"type": "object", "example": error_body(422, "...")}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
