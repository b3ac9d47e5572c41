"""The web app: a page to build a scenario and see its costs, over a JSON API.

Every endpoint takes the scenario format the CLI reads (JSON, or YAML with a YAML content type)
and answers with the same pydantic models the CLI prints; errors share one shape
(:mod:`llm_tco.web.errors`). Nothing here computes a cost.
"""

from __future__ import annotations

import io
import json
import zipfile
from importlib import resources
from typing import Annotated, Any, Literal

import yaml
from fastapi import Body, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from llm_tco.catalog.loader import Catalog, load_catalog
from llm_tco.core.units import parse_quantity
from llm_tco.decide_result import Recommendation
from llm_tco.errors import ScenarioError
from llm_tco.evaluate import evaluate
from llm_tco.report.view import Report, build_report
from llm_tco.result import Result
from llm_tco.scenario import Scenario, scenario_from_data
from llm_tco.web.catalog_api import LISTINGS, listing
from llm_tco.web.errors import BodyLimitMiddleware, error_body, install_error_handlers

YAML_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"}
MAX_OPTIONS = 50  # a page of options; more makes the break-even table (options^2) unreadable
MAX_VOLUMES = 1000
MAX_SAMPLES = 100_000  # the Monte Carlo runs 100,000 samples of 5 options in under 2 s
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

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"description": "request body over 5 MB"},
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


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors/aliases: aliases can expand a small body into an enormous one."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise ScenarioError("YAML aliases (*name) are not accepted", field="body")
        return super().compose_node(parent, index)


def parse_document(body: bytes, content_type: str) -> Any:
    """JSON (or YAML for a YAML content type) from a request body; errors name `body`."""
    if not body.strip():
        raise ScenarioError("empty request body", field="body", hint="send a scenario as JSON")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("request body is not UTF-8 text", field="body") from None
    media = content_type.split(";")[0].strip().lower()
    try:
        if media in YAML_TYPES:
            return yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader subclass
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", field="body"
        ) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ScenarioError(f"malformed YAML: {detail}", field="body") from None


def check_scenario(data: Any, field: str = "") -> Scenario:
    """Validate a parsed scenario, with the web's size guards."""
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
    return scenario


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
        if volume <= 0:
            raise ScenarioError("volumes must be positive", field=f"volumes[{i}]")
        volumes.append(volume)
    return volumes


async def read_scenario(request: Request) -> Scenario:
    body = await request.body()
    return check_scenario(parse_document(body, request.headers.get("content-type", "")))


def json_response(model: Result | Report | Recommendation) -> Response:
    # The CLI's serialiser, so `--format json` and the API print the same numbers.
    return Response(model.model_dump_json(), media_type="application/json")


def create_app(catalog: Catalog | None = None) -> FastAPI:
    """The app; ``catalog`` defaults to the packaged catalog (tests pass their own)."""
    app = FastAPI(
        title="llm-tco",
        summary="Monthly cost of serving an LLM workload each way, break-evens and sweeps.",
        responses=ERROR_RESPONSES,
    )
    app.add_middleware(BodyLimitMiddleware)
    install_error_handlers(app)
    app.state.catalog = catalog or load_catalog()
    _add_api_routes(app)
    _add_page_routes(app)
    _add_openapi_schemas(app)
    return app


def _add_api_routes(app: FastAPI) -> None:
    def catalog() -> Catalog:
        return app.state.catalog  # type: ignore[no-any-return]

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        c = catalog()
        counts = {"gpus": len(c.gpus), "offers": len(c.offers), "models": len(c.models)}
        return {"ok": True, "catalog": counts}

    @app.post("/api/evaluate", response_model=Result, openapi_extra=SCENARIO_BODY)
    async def evaluate_endpoint(request: Request) -> Response:
        """Evaluate a scenario: the result `llm-tco evaluate FILE --format json` prints."""
        scenario = await read_scenario(request)
        return json_response(await run_in_threadpool(evaluate, scenario, catalog()))

    @app.post("/api/sweep", response_model=Result)
    async def sweep_endpoint(
        scenario: Annotated[dict[str, Any], Body(description="a scenario")],
        volumes: Annotated[list[Any], Body(description='tokens/month, e.g. ["50M", 1e9]')],
    ) -> Response:
        """The result with its sweep at ``volumes`` (as `llm-tco sweep FILE --volumes ...`)."""
        checked = check_scenario(scenario, "scenario")
        parsed = parse_volumes(volumes)
        return json_response(await run_in_threadpool(evaluate, checked, catalog(), parsed))

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
        return json_response(await run_in_threadpool(recommend, scenario, samples, seed, catalog()))

    @app.post("/api/view", response_model=Report, openapi_extra=SCENARIO_BODY)
    async def view_endpoint(request: Request) -> Response:
        """What the page shows: the result, the recommendation (a 2,000-month simulation, seed 0,
        when the scenario has ranges), the tornado, the tables as display strings, and the chart
        specs."""
        scenario = await read_scenario(request)
        return json_response(await run_in_threadpool(build_report, scenario, catalog()))

    @app.post("/api/parse", openapi_extra=SCENARIO_BODY)
    async def parse_endpoint(request: Request) -> dict[str, Any]:
        """Check a scenario (YAML or JSON) and return it as JSON, for the page's form."""
        data = parse_document(await request.body(), request.headers.get("content-type", ""))
        check_scenario(data)
        return {"ok": True, "scenario": data}

    @app.post("/api/report", openapi_extra=SCENARIO_BODY)
    async def report_endpoint(request: Request, format: Literal["html", "md"] = "html") -> Response:
        """The report `llm-tco report` writes: one HTML file, or Markdown + PNG charts (zip)."""
        scenario = await read_scenario(request)
        report = await run_in_threadpool(build_report, scenario, catalog())
        if format == "html":
            from llm_tco.report.html import render_html

            return _download(render_html(report).encode(), "text/html", "llm-tco-report.html")
        payload = await run_in_threadpool(_markdown_zip, report)
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
