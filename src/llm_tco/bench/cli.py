"""``llm-tco bench`` (run, compare, import, show) and ``llm-tco calibrate``.

The main CLI calls :func:`register`; everything here parses flags, calls the bench package and
renders its result. Errors are :class:`llm_tco.errors.LlmTcoError`, printed on one line by
``_fail`` with exit status 2.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated, Literal, NoReturn

import typer
from rich.console import Console

from llm_tco.bench.client import ClientConfig
from llm_tco.bench.compare import compare, compare_table
from llm_tco.bench.importers import load_result
from llm_tco.bench.pricing import resolve_pricing
from llm_tco.bench.profiles import LevelPlan, Limits
from llm_tco.bench.prompts import LengthSpec, PromptSpec, replay_prompts, synthetic_prompts
from llm_tco.bench.render import LiveProgress, print_result
from llm_tco.bench.replay import read_replay
from llm_tco.bench.result import BenchResult, PeakDemand, Slo
from llm_tco.bench.runner import BenchPlan, ProfileName, QuietProgress, run_benchmark
from llm_tco.bench.scenario_peak import ScenarioShape, scenario_shape
from llm_tco.errors import PLAIN_HELP, BenchError, LlmTcoError

bench_app = typer.Typer(
    help="Benchmark an OpenAI-compatible endpoint and price what it serves.",
    no_args_is_help=False,
    rich_markup_mode=PLAIN_HELP,
)
OutputFormat = Literal["table", "json"]


def _fail(error: LlmTcoError) -> NoReturn:
    Console(stderr=True).print(f"error: {error}", markup=False, highlight=False)
    raise typer.Exit(2)


def _numbers(text: str | None, field: str, kind: type[int] | type[float]) -> list[float]:
    if not text:
        return []
    try:
        values = [kind(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise BenchError(f"'{text}' is not a comma-separated list of numbers", field=field) from exc
    if any(v <= 0 for v in values):
        raise BenchError("values must be positive", field=field)
    return values


def _plan_levels(
    profile: ProfileName, concurrency: str | None, rate: str | None, arrival: str, speed: float
) -> list[LevelPlan]:
    if profile == "rate":
        rates = _numbers(rate, "rate", float)
        if not rates:
            raise BenchError(
                "the rate profile needs --rate", field="rate", hint="e.g. --rate 2,4,8"
            )
        return [
            LevelPlan(arrival="poisson" if arrival == "poisson" else "constant", rate=r)
            for r in rates
        ]
    if profile == "replay":
        return [LevelPlan(arrival="replay", rate=speed)]
    return [LevelPlan(concurrency=int(c)) for c in _numbers(concurrency or "1", "concurrency", int)]


def _emit(result: BenchResult, fmt: OutputFormat, raw: bool, output: Path | None) -> None:
    if output is not None:
        result.save(output)
    if fmt == "json":
        sys.stdout.write(result.to_json(raw=raw) + "\n")
    else:
        print_result(result, Console())
        if output is not None:
            Console().print(f"saved {output}")


@bench_app.callback(invoke_without_command=True)
def bench(
    ctx: typer.Context,
    endpoint: Annotated[
        str | None, typer.Option(metavar="URL", help="server root URL, e.g. http://127.0.0.1:8000")
    ] = None,
    model: Annotated[str | None, typer.Option(help="model name the server expects")] = None,
    api: Annotated[
        Literal["completions", "chat"],
        typer.Option(
            metavar="API", help="completions or chat (/v1/completions, /v1/chat/completions)"
        ),
    ] = "completions",
    api_key: Annotated[
        str | None, typer.Option(envvar="LLM_TCO_API_KEY", help="bearer token")
    ] = None,
    profile: Annotated[
        ProfileName | None,
        typer.Option(metavar="NAME", help="concurrency, rate, sweep, goodput or replay"),
    ] = None,
    concurrency: Annotated[
        str | None, typer.Option(help="concurrent requests; a list runs one level each: 1,4,16")
    ] = None,
    rate: Annotated[str | None, typer.Option(help="arrival rates in requests/s: 2,4,8")] = None,
    arrival: Annotated[
        Literal["constant", "poisson"],
        typer.Option(metavar="KIND", help="arrival process for --rate: poisson or constant"),
    ] = "poisson",
    requests: Annotated[
        int, typer.Option(min=1, max=1_000_000, metavar="N", help="max requests per level")
    ] = 100,
    duration: Annotated[
        float, typer.Option(min=0.1, max=86_400, metavar="S", help="max seconds per level")
    ] = 300.0,
    input_len: Annotated[
        str | None, typer.Option(help="prompt tokens: N or LOW:HIGH [default: 128]")
    ] = None,
    output_len: Annotated[
        str | None, typer.Option(help="output tokens: N or LOW:HIGH [default: 128]")
    ] = None,
    shared_prefix_len: Annotated[
        int, typer.Option(min=0, metavar="N", help="tokens shared by every prompt (prefix cache)")
    ] = 0,
    replay: Annotated[
        Path | None, typer.Option(help="CSV/JSONL log: timestamp, input_tokens, output_tokens")
    ] = None,
    replay_speed: Annotated[
        float, typer.Option(min=0.001, help="replay this many times faster")
    ] = 1.0,
    ttft_slo: Annotated[
        float | None, typer.Option(metavar="MS", help="time-to-first-token target, ms")
    ] = None,
    tpot_slo: Annotated[
        float | None, typer.Option(metavar="MS", help="time-per-output-token target, ms")
    ] = None,
    slo_attainment: Annotated[
        float,
        typer.Option(
            min=0.01, max=1.0, metavar="SHARE", help="share of requests that must meet the SLO"
        ),
    ] = 0.95,
    max_concurrency: Annotated[
        int, typer.Option(min=1, max=100_000, metavar="N", help="upper bound for sweep/goodput")
    ] = 256,
    hourly: Annotated[float | None, typer.Option(help="USD per GPU-hour")] = None,
    gpu: Annotated[str | None, typer.Option(help="catalog GPU id, e.g. h100-sxm-80gb")] = None,
    count: Annotated[int, typer.Option(min=1, help="GPUs in the benchmarked deployment")] = 1,
    offer: Annotated[
        str | None, typer.Option(help="catalog rental offer (or provider) for --gpu")
    ] = None,
    peak_output_tps: Annotated[
        float | None,
        typer.Option(
            metavar="TPS", help="your peak output tokens/s: how many deployments carry it"
        ),
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(help="scenario file: its peak load, and its per-request token counts"),
    ] = None,
    request_timeout: Annotated[
        float, typer.Option(min=0.1, metavar="S", help="seconds per request")
    ] = 120.0,
    retries: Annotated[
        int,
        typer.Option(min=0, max=10, metavar="N", help="retries on 5xx, 429 and connection errors"),
    ] = 0,
    ignore_eos: Annotated[
        bool, typer.Option(help="ask the server to generate exactly --output-len")
    ] = True,
    stream_usage: Annotated[
        bool, typer.Option(help="ask for a usage block at the end of the stream")
    ] = True,
    seed: Annotated[int, typer.Option(help="seed for prompts and Poisson arrivals")] = 0,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="save the full result JSON here")
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="table or json")] = "table",
    raw: Annotated[
        bool, typer.Option(help="with --format json: include every request's timings")
    ] = False,
    quiet: Annotated[bool, typer.Option(help="no live progress")] = False,
) -> None:
    """Run a benchmark (when no subcommand is given)."""
    if ctx.invoked_subcommand is not None:
        return
    try:
        if endpoint is None or model is None:
            raise BenchError("--endpoint and --model are required", hint="llm-tco bench --help")
        chosen: ProfileName = profile or ("replay" if replay else "rate" if rate else "concurrency")
        slo = (
            Slo(ttft_ms=ttft_slo, tpot_ms=tpot_slo, attainment=slo_attainment)
            if (ttft_slo or tpot_slo)
            else None
        )
        if chosen == "goodput" and slo is None:
            raise BenchError("goodput search needs --ttft-slo and/or --tpot-slo", field="profile")
        pricing = resolve_pricing(hourly=hourly, gpu=gpu, count=count, offer=offer)
        shape = scenario_shape(scenario) if scenario is not None else None
        if shape is not None and peak_output_tps is None:
            peak_output_tps = shape.peak_output_tokens_per_second
        if chosen == "replay":
            if replay is None:
                raise BenchError("the replay profile needs --replay FILE", field="profile")
            prompts = replay_prompts(read_replay(replay, limit=requests), seed=seed)
            workload = {"replay": replay.name, "requests": len(prompts), "speed": replay_speed}
        else:
            prompts, workload = _synthetic(
                input_len or _from_shape(shape, "input"),
                output_len or _from_shape(shape, "output"),
                requests,
                shared_prefix_len,
                seed,
            )
        plan = BenchPlan(
            profile=chosen,
            levels=_plan_levels(chosen, concurrency, rate, arrival, replay_speed),
            limits=Limits(max_requests=requests, max_duration_s=duration),
            slo=slo,
            max_concurrency=max_concurrency,
        )
        config = ClientConfig(
            endpoint=endpoint,
            model=model,
            api=api,
            api_key=api_key,
            request_timeout_s=request_timeout,
            retries=retries,
            ignore_eos=ignore_eos,
            stream_usage=stream_usage,
        )
        result = _run(config, plan, prompts, quiet or fmt == "json", output)
        result = result.model_copy(update={"workload": workload})
        if peak_output_tps is not None:
            result = result.model_copy(
                update={"peak": PeakDemand(output_tokens_per_second=peak_output_tps)}
            )
        result = result.with_pricing(pricing)
        if any(lv.output_tokens_source == "chunks" for lv in result.levels):
            result.notes.append(
                "output tokens counted from stream chunks (the server sent no usage)"
            )
        _emit(result, fmt, raw, output)
    except LlmTcoError as error:
        _fail(error)
    _exit_if_nothing_served(result)


def _exit_if_nothing_served(result: BenchResult) -> None:
    """Exit 1, with the counts, when a level sent requests and none of them succeeded (a dead
    endpoint, a wrong model name, a server that speaks another protocol)."""
    failed = [lv for lv in result.levels if lv.requests_completed == 0 and lv.requests_failed]
    if not failed:
        return
    for level in failed:
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(level.errors.items()))
        load = (
            f"concurrency {level.concurrency}" if level.concurrency else f"rate {level.rate or 0:g}"
        )
        sys.stderr.write(
            f"error: no request succeeded at {load}: {level.requests_failed} sent, "
            f"{level.requests_failed} failed ({kinds})\n"
        )
    raise typer.Exit(1)


def _from_shape(shape: ScenarioShape | None, side: Literal["input", "output"]) -> str:
    """A scenario's per-request token count, else the default of 128."""
    value = getattr(shape, f"{side}_tokens_per_request", None) if shape else None
    return str(value) if value else "128"


def _synthetic(
    input_len: str, output_len: str, requests: int, shared_prefix_len: int, seed: int
) -> tuple[list[PromptSpec], dict[str, object]]:
    in_spec = LengthSpec.parse(input_len, field="input-len")
    out_spec = LengthSpec.parse(output_len, field="output-len")
    prompts = synthetic_prompts(
        min(requests, 100_000), in_spec, out_spec, shared_prefix_tokens=shared_prefix_len, seed=seed
    )
    workload: dict[str, object] = {
        "input_len": str(in_spec),
        "output_len": str(out_spec),
        "shared_prefix_len": shared_prefix_len,
    }
    return prompts, workload


def _run(
    config: ClientConfig,
    plan: BenchPlan,
    prompts: list[PromptSpec],
    quiet: bool,
    output: Path | None,
) -> BenchResult:
    """Run with live progress; each finished level is saved at once, so a kill loses little."""

    def checkpoint(partial: BenchResult) -> None:
        if output is not None:
            partial.model_copy(update={"interrupted": True}).save(output)

    if quiet:
        return asyncio.run(
            run_benchmark(config, plan, prompts, progress=QuietProgress(), on_level=checkpoint)
        )
    with LiveProgress(Console(stderr=True)) as live:
        return asyncio.run(run_benchmark(config, plan, prompts, progress=live, on_level=checkpoint))


@bench_app.command("compare")
def compare_cmd(
    a: Annotated[
        Path, typer.Argument(help="result A (llm-tco, GuideLLM or vllm bench serve JSON)")
    ],
    b: Annotated[Path, typer.Argument(help="result B")],
    fmt: Annotated[OutputFormat, typer.Option("--format")] = "table",
    html: Annotated[
        Path | None,
        typer.Option(help="also write a report with both results on each chart (.html or .md)"),
    ] = None,
) -> None:
    """Show two results side by side: throughput, latency and cost at each common load."""
    try:
        result_a, result_b = load_result(a), load_result(b)
        rows = compare(result_a, result_b)
        if html is not None:
            from llm_tco.report.bench_view import build_compare_report
            from llm_tco.report.cli import write_report

            report = build_compare_report((a.name, result_a), (b.name, result_b))
            for path in write_report(report, html):
                Console(stderr=True).print(f"wrote {path}", markup=False, highlight=False)
    except LlmTcoError as error:
        _fail(error)
    if fmt == "json":
        sys.stdout.write("[" + ",".join(r.model_dump_json() for r in rows) + "]\n")
    else:
        Console().print(compare_table(rows, a.name, b.name))


@bench_app.command("show")
def show_cmd(
    path: Annotated[Path, typer.Argument(help="a saved or imported result")],
    hourly: Annotated[float | None, typer.Option(help="USD per GPU-hour, to price it now")] = None,
    gpu: Annotated[str | None, typer.Option()] = None,
    count: Annotated[int, typer.Option(min=1)] = 1,
    offer: Annotated[str | None, typer.Option()] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = "table",
) -> None:
    """Print a saved result (optionally priced anew)."""
    try:
        result = load_result(path)
        pricing = resolve_pricing(hourly=hourly, gpu=gpu, count=count, offer=offer)
        if pricing is not None:
            result = result.with_pricing(pricing)
    except LlmTcoError as error:
        _fail(error)
    _emit(result, fmt, raw=False, output=None)


@bench_app.command("import")
def import_cmd(
    path: Annotated[
        Path, typer.Argument(help="GuideLLM benchmarks.json or vllm bench serve result")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="where to write the llm-tco result")
    ],
) -> None:
    """Convert another tool's result into an llm-tco result file."""
    try:
        result = load_result(path)
    except LlmTcoError as error:
        _fail(error)
    result.save(output)
    Console().print(f"imported {len(result.levels)} level(s) from {result.tool} into {output}")


def calibrate_cmd(
    result_path: Annotated[
        Path, typer.Argument(metavar="RESULT.json", help="a saved benchmark result")
    ],
    gpu: Annotated[
        str | None, typer.Option(help="catalog GPU id the result was measured on")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="catalog model id (defaults to the result's)")
    ] = None,
    engine: Annotated[
        str, typer.Option(help="serving engine: vllm, sglang, trtllm, llamacpp")
    ] = "vllm",
    precision: Annotated[str, typer.Option(help="weights precision")] = "bf16",
    count: Annotated[int, typer.Option(min=1, help="GPUs (tensor parallel)")] = 1,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = "table",
) -> None:
    """Fit the capacity model's efficiency factors to a measured result; show before and after."""
    from llm_tco.bench.calibrate import calibrate, render_calibration

    try:
        report = calibrate(
            load_result(result_path),
            gpu=gpu,
            model=model,
            engine=engine,
            precision=precision,
            gpu_count=count,
        )
    except LlmTcoError as error:
        _fail(error)
    if fmt == "json":
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        render_calibration(report, Console())


def register(app: typer.Typer) -> None:
    """Add ``bench`` (with ``compare``, ``show``, ``import``) and ``calibrate`` to ``app``."""
    app.add_typer(bench_app, name="bench")
    app.command("calibrate")(calibrate_cmd)


def standalone_app() -> typer.Typer:
    """An app with only the bench commands (``python -m llm_tco.bench.cli bench ...``)."""
    app = typer.Typer(no_args_is_help=True, rich_markup_mode=PLAIN_HELP)
    register(app)
    return app


if __name__ == "__main__":
    standalone_app()()
