"""The ``llm-tco`` command line: parse arguments, call the core, render the result."""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from typer.core import TyperGroup

from llm_tco.errors import PLAIN_HELP, LlmTcoError, print_error

if TYPE_CHECKING:
    from rich.console import Console

# Commands from other parts of the package, by the module that registers them
# (``register(app)``). They load on first use, so `llm-tco evaluate` starts fast.
PLUGIN_COMMANDS = {
    "capacity": "llm_tco.capacity_cli",
    "validate-capacity": "llm_tco.capacity_cli",
    "ingest": "llm_tco.ingest.cli",
    "demo-logs": "llm_tco.ingest.cli",
    "bench": "llm_tco.bench.cli",
    "calibrate": "llm_tco.bench.cli",
    "quality": "llm_tco.quality.cli",
    "serve": "llm_tco.web.cli",
    "report": "llm_tco.report.cli",
    "size-trace": "llm_tco.trace_cli",
    "recommend": "llm_tco.uncertainty_cli",
    "sensitivity": "llm_tco.uncertainty_cli",
    "simulate": "llm_tco.uncertainty_cli",
    "plan": "llm_tco.plan.cli",
    "term": "llm_tco.term_cli",
    "watch": "llm_tco.watch_cli",
}


def _plugin_command(ctx: Any, name: str) -> Any:
    module_name = PLUGIN_COMMANDS.get(name)
    if module_name is None:
        return None
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise
    holder = typer.Typer(rich_markup_mode=PLAIN_HELP)
    module.register(holder)
    command = typer.main.get_command(holder)
    if isinstance(command, TyperGroup):
        found: Any = command.get_command(ctx, name)
        return found
    return command


class LazyGroup(TyperGroup):
    """The top-level group: built-in commands plus plugin commands loaded on demand."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = list(super().list_commands(ctx))
        return names + [n for n in PLUGIN_COMMANDS if n not in names and self._available(ctx, n)]

    def _available(self, ctx: Any, name: str) -> bool:
        return self.get_command(ctx, name) is not None

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            command = _plugin_command(ctx, cmd_name)
            if command is not None:
                self.add_command(command, cmd_name)
        return command


app = typer.Typer(
    cls=LazyGroup,
    name="llm-tco",
    help=(
        "What serving an LLM workload costs each way - proprietary API, hosted open-weight API, "
        "self-hosted GPUs - where they break even, and which to choose.\n\n"
        "Start with `llm-tco init my.yaml`, edit it, then `llm-tco evaluate my.yaml`."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=PLAIN_HELP,
)
catalog_app = typer.Typer(
    help="Browse the catalog: API prices, GPUs, rental offers, models.",
    rich_markup_mode=PLAIN_HELP,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        from llm_tco import __version__

        try:
            prices = f"genai-prices {version('genai-prices')} data"
        except PackageNotFoundError:
            prices = "no genai-prices data"
        sys.stdout.write(f"llm-tco {__version__} ({prices})\n")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_version, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """What serving an LLM workload costs each way."""


app.add_typer(catalog_app, name="catalog")


@functools.cache
def console(err: bool = False) -> Console:
    """The terminal, through rich (imported on first use: JSON output never needs it)."""
    from rich.console import Console

    return Console(stderr=True) if err else Console(soft_wrap=False)


def __getattr__(name: str) -> Any:
    # `from llm_tco.cli import stdout` in command modules: the consoles, made on first use.
    if name in ("stdout", "stderr"):
        return console(err=name == "stderr")
    raise AttributeError(name)


F = TypeVar("F", bound=Callable[..., Any])


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"
    csv = "csv"


def cli_errors(func: F) -> F:
    """Bad input prints one line naming the field and the fix, and exits with status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LlmTcoError as exc:
            print_error(exc)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def parse_volumes(text: str) -> list[float]:
    from llm_tco.core.units import parse_quantity

    volumes = []
    for part in text.split(","):
        try:
            value = parse_quantity(part)
        except ValueError as exc:
            raise LlmTcoError(str(exc), field="--volumes", hint="e.g. 50M,200M,1B") from None
        if value <= 0:
            raise LlmTcoError("volumes must be positive", field="--volumes")
        volumes.append(value)
    return volumes


def emit(
    result: Any, output: OutputFormat, *, sweep_only: bool = False, wide: bool = False
) -> None:
    if output is OutputFormat.json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    from llm_tco.report import text

    if output is OutputFormat.markdown:
        sys.stdout.write(text.render_markdown(result))
    elif output is OutputFormat.csv:
        sys.stdout.write(text.render_csv(result))
    else:
        text.render_table(result, console(), sweep_only=sweep_only, wide=wide)
        if getattr(result, "simulation", None) is not None:
            from llm_tco.uncertainty_cli import render_simulation

            render_simulation(result.simulation, console())
        text.render_warnings(result, console(err=True))


FileArg = Annotated[
    Path, typer.Argument(help="scenario file (YAML or JSON); `llm-tco init` writes one")
]
FormatOpt = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="table (default), json, markdown or csv")
]
WideOpt = Annotated[
    bool,
    typer.Option("--wide", help="every column in full, one row per line (the default when piped)"),
]


@app.command()
@cli_errors
def evaluate(
    file: FileArg,
    output: FormatOpt = OutputFormat.table,
    samples: Annotated[
        int,
        typer.Option(
            min=0, max=100_000, help="Monte Carlo samples over the scenario's ranges (0: none)"
        ),
    ] = 0,
    seed: Annotated[int | None, typer.Option(help="random seed: same seed, same output")] = None,
    wide: WideOpt = False,
    fail_if_not_cheapest: Annotated[
        str | None,
        typer.Option(
            "--fail-if-not-cheapest",
            metavar="OPTION",
            help="exit 1 when OPTION is not the cheapest option that can serve (for CI checks "
            "of a saved decision)",
        ),
    ] = None,
) -> None:
    """Monthly cost of every option with its line items, break-even volumes and a sweep.

    Warnings (a model that does not fit, capacity exceeded, a price that differs from the
    catalog) go to stderr in table mode and into `warnings[]` in JSON. With `--samples N`,
    any number written as a range (`{low: 500, high: 2000}`, `{triangular: [a, mode, b]}`)
    is sampled: P10/P50/P90 cost per option, the probability each is cheapest, and the
    break-even as a distribution (`simulation` in JSON).
    """
    from llm_tco.catalog import load_catalog
    from llm_tco.errors import ScenarioError
    from llm_tco.evaluate import evaluate as run
    from llm_tco.evaluate import price_options
    from llm_tco.scenario import load_scenario

    scenario = load_scenario(file)
    names = [o.name for o in scenario.options]
    if fail_if_not_cheapest is not None and fail_if_not_cheapest not in names:
        raise ScenarioError(
            f"no option named '{fail_if_not_cheapest}'",
            field="--fail-if-not-cheapest",
            hint="name one of the scenario's options: " + ", ".join(names),
        )
    catalog = load_catalog()
    state = price_options(scenario, catalog)  # priced once, for the result and the samples
    result = run(scenario, catalog, state=state, suggest=True)
    if samples:
        from llm_tco.simulate import simulate

        simulation = simulate(scenario, samples, seed, catalog, state=state, point=result)
        result = result.model_copy(update={"simulation": simulation})
    emit(result, output, wide=wide)
    if fail_if_not_cheapest is not None and result.cheapest != fail_if_not_cheapest:
        cheapest = result.cheapest or "no option (none can serve)"
        from rich.text import Text

        console(err=True).print(
            Text(f"{fail_if_not_cheapest} is not the cheapest option that can serve: {cheapest} is")
        )
        raise typer.Exit(1)


@app.command()
@cli_errors
def sweep(
    file: FileArg,
    volumes: Annotated[
        str | None,
        typer.Option(
            help="total tokens/month, comma-separated, e.g. 50M,200M,1B (default: the "
            "file's `sweep:` list, or volumes around the workload's)"
        ),
    ] = None,
    output: FormatOpt = OutputFormat.table,
    wide: WideOpt = False,
) -> None:
    """Cost of every option at other monthly volumes (same split, shape and load pattern)."""
    from llm_tco.evaluate import evaluate as run
    from llm_tco.scenario import load_scenario

    chosen = parse_volumes(volumes) if volumes is not None else None
    emit(run(load_scenario(file), volumes=chosen), output, sweep_only=True, wide=wide)


@app.command()
@cli_errors
def fit(
    model: Annotated[str, typer.Argument(help="catalog model, e.g. llama-3.3-70b")],
    gpu: Annotated[str, typer.Argument(help="catalog GPU, e.g. h100-sxm-80gb")],
    precision: Annotated[
        str | None,
        typer.Option(
            help="bf16, fp16, fp8, int8, int4, mxfp4 or fp4 (default: what the checkpoint ships: "
            "a name ending -FP8 or -AWQ says, else the model's published format, bf16 for most)"
        ),
    ] = None,
    count: Annotated[int | None, typer.Option(help="GPUs (default: the fewest that fit)")] = None,
    context: Annotated[int, typer.Option(help="tokens per sequence for the KV cache")] = 4096,
    output: FormatOpt = OutputFormat.table,
) -> None:
    """Does MODEL fit on GPU at PRECISION? Weights (every expert of an MoE), KV cache, overhead.

    Exit status: 0 when it fits, 1 when it does not, 2 on bad input.
    """
    from llm_tco.catalog import load_catalog
    from llm_tco.fitcmd import run_fit

    fits = run_fit(load_catalog(), model, gpu, precision, count, context, output.value, console())
    if not fits:
        raise typer.Exit(1)


@app.command()
@cli_errors
def init(
    path: Annotated[Path, typer.Argument(help="where to write the scenario")] = Path(
        "scenario.yaml"
    ),
    force: Annotated[bool, typer.Option(help="overwrite an existing file")] = False,
) -> None:
    """Write a commented example scenario to edit."""
    template = Path(__file__).parent / "examples" / "template.yaml"
    if path.exists() and not force:
        raise LlmTcoError(f"{path} exists", field="PATH", hint="pass --force to overwrite")
    path.write_text(template.read_text(encoding="utf-8"), encoding="utf-8")
    console().print(f"wrote {path}; now run: llm-tco evaluate {path}", markup=False)


@catalog_app.command("apis")
@cli_errors
def catalog_apis(
    search: Annotated[str | None, typer.Option(help="only names containing this")] = None,
    output: FormatOpt = OutputFormat.table,
    wide: WideOpt = False,
) -> None:
    """API prices per 1M tokens (genai-prices data plus our own rows)."""
    from llm_tco.catalog.views import show_apis

    show_apis(search, output.value, console(), wide)


@catalog_app.command("gpus")
@cli_errors
def catalog_gpus(
    search: Annotated[str | None, typer.Option(help="only names containing this")] = None,
    output: FormatOpt = OutputFormat.table,
    wide: WideOpt = False,
) -> None:
    """GPU datasheet figures: memory, bandwidth, dense tensor throughput."""
    from llm_tco.catalog.views import show_gpus

    show_gpus(search, output.value, console(), wide)


@catalog_app.command("offers")
@cli_errors
def catalog_offers(
    search: Annotated[
        str | None, typer.Option(help="only GPUs or providers containing this")
    ] = None,
    gpu: Annotated[
        str | None,
        typer.Option(help="only this GPU (id or alias), or a family: h100 (every H100 part)"),
    ] = None,
    provider: Annotated[
        str | None, typer.Option(help="only this provider: aws, nebius ...")
    ] = None,
    billing: Annotated[
        str | None,
        typer.Option(help="only this billing: on-demand, spot, reserved-1y, reserved-3y, monthly"),
    ] = None,
    output: FormatOpt = OutputFormat.table,
    wide: WideOpt = False,
) -> None:
    """GPU rental offers: provider, GPU, count, price (whole instance and per GPU), its date.

    Example: `llm-tco catalog offers --gpu h100 --billing spot -f csv`
    """
    from llm_tco.catalog.views import show_offers

    show_offers(search, output.value, console(), wide, gpu=gpu, provider=provider, billing=billing)


@catalog_app.command("rate-limits")
@cli_errors
def catalog_rate_limits(
    search: Annotated[
        str | None, typer.Option(help="only providers, tiers or models containing this")
    ] = None,
    output: FormatOpt = OutputFormat.table,
    wide: WideOpt = False,
) -> None:
    """Published API rate limits by provider, tier and model: requests and tokens per minute."""
    from llm_tco.catalog.views import show_rate_limits

    show_rate_limits(search, output.value, console(), wide)


@catalog_app.command("provisioned")
@cli_errors
def catalog_provisioned(
    search: Annotated[str | None, typer.Option(help="only ids or models containing this")] = None,
    output: FormatOpt = OutputFormat.table,
    wide: WideOpt = False,
) -> None:
    """Reserved API throughput: tokens per minute per unit, minimum, step and unit price."""
    from llm_tco.catalog.views import show_provisioned

    show_provisioned(search, output.value, console(), wide)


@catalog_app.command("refresh-offers")
@cli_errors
def catalog_refresh_offers(
    provider: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME",
            help="only this provider (repeatable): aws, azure, gcp, lambda, runpod ...",
        ),
    ] = None,
    from_csv: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="read gpuhunt's PROVIDER.csv files from DIR; no download"),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="report what would change; write nothing")] = False,
    all_locations: Annotated[
        bool, typer.Option(help="keep every location, not only the cheapest per instance")
    ] = False,
) -> None:
    """Pull current GPU rental prices through gpuhunt into a local cache.

    Needs `pip install 'llm-tco[offers]'` and, without `--from-csv`, a connection: gpuhunt
    downloads each cloud's published catalog. GPU instances are mapped to catalog GPUs (rows
    whose GPU or SXM/PCIe form factor cannot be told are skipped and counted) and written to
    `$LLM_TCO_CACHE_DIR/offers.json` (default `~/.cache/llm-tco/offers.json`), never over the
    shipped catalog. Every row carries the date it was fetched; `llm-tco catalog offers` then
    lists them after the shipped rows, and `offer: runpod` in a scenario picks the newest.

    Prints rows read, mapped, skipped by reason and written, and the shipped vs refreshed
    price per GPU-hour for each provider and GPU in both.

    Example: `llm-tco catalog refresh-offers --provider runpod --dry-run`
    """
    from llm_tco.catalog.refresh_report import run_refresh

    run_refresh(provider, from_csv, dry_run, all_locations, console())


@catalog_app.command("refresh-prices")
@cli_errors
def catalog_refresh_prices(
    url: Annotated[
        str | None, typer.Option(help="where genai-prices publishes its data (its own default)")
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="read a downloaded genai-prices data.json; no download"),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="report what would change; write nothing")] = False,
    status: Annotated[
        bool, typer.Option("--status", help="only say which price data is in use, and its date")
    ] = False,
    output: FormatOpt = OutputFormat.table,
    wide: WideOpt = False,
) -> None:
    """Update the API price data from genai-prices' published data file.

    Downloads the file genai-prices' own updater reads (about 0.4 MB), checks it with
    genai-prices' parser and saves it as `$LLM_TCO_CACHE_DIR/genai-prices.json`; price look-ups
    then use it. The data shipped with the installed genai-prices stays as the fallback: when
    the download fails nothing changes, and deleting the saved file goes back to it. Prints
    which data is in use and its date, and every model whose input or output price changed.

    Our own rows (`api_prices.yaml`, e.g. DeepSeek's current prices) still win for their
    provider; where they and genai-prices disagree, `evaluate` warns with both figures.

    Example: `llm-tco catalog refresh-prices --dry-run`, then `llm-tco watch my.yaml`.
    """
    from llm_tco.catalog import price_refresh
    from llm_tco.catalog.price_view import show_refresh, show_status

    if status:
        show_status(price_refresh.data_status(), output.value, console(), wide)
        return
    refresh = price_refresh.refresh_prices(
        url or price_refresh.DEFAULT_URL, from_file=from_file, dry_run=dry_run
    )
    show_refresh(refresh, output.value, console(), wide)


@catalog_app.command("models")
@cli_errors
def catalog_models(
    search: Annotated[str | None, typer.Option(help="only names containing this")] = None,
    output: FormatOpt = OutputFormat.table,
    wide: WideOpt = False,
) -> None:
    """Open-weight model architectures: parameters, layers, heads, experts, context."""
    from llm_tco.catalog.views import show_models

    show_models(search, output.value, console(), wide)


def main() -> None:
    app()
