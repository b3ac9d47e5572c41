"""`llm-tco serve`: the web page and JSON API on this machine."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

# Open connections at once; past it uvicorn answers 503 instead of queueing without bound.
MAX_CONNECTIONS = 1000


def register(app: typer.Typer) -> None:
    from llm_tco.cli import cli_errors

    @app.command()
    @cli_errors
    def serve(
        host: Annotated[
            str, typer.Option(help="address to bind; 0.0.0.0 exposes it to the network")
        ] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
        allow_host: Annotated[
            list[str] | None,
            typer.Option(
                metavar="NAME",
                help="another Host name requests may use, e.g. a DNS name (repeatable)",
            ),
        ] = None,
        token: Annotated[
            str | None,
            typer.Option(
                envvar="LLM_TCO_SERVE_TOKEN",
                help="access token; off loopback one is generated and printed if not given",
            ),
        ] = None,
        data_dir: Annotated[
            Path | None,
            typer.Option(
                help="folder whose files scenarios may name (from_logs, bench_result); "
                "without it the server reads no file a request names"
            ),
        ] = None,
    ) -> None:
        """Serve the page at http://HOST:PORT/ and the JSON API under /api (schema at
        /openapi.json). Binds to loopback unless told otherwise; any other address needs an
        access token, and requests must name this server in their Host header."""
        # Heavy imports stay here so that other commands start fast.
        import uvicorn

        from llm_tco.errors import LlmTcoError
        from llm_tco.web.app import create_app
        from llm_tco.web.guards import allowed_hosts_for, is_loopback, new_token

        if data_dir is not None and not data_dir.is_dir():
            raise LlmTcoError("not a folder", field="--data-dir")
        loopback = is_loopback(host)
        if not loopback and not token:
            token = new_token()
        hosts = allowed_hosts_for(host, allow_host or ())
        if host in ("0.0.0.0", "::") and not allow_host:
            # A wildcard bind is reached by some name we cannot know: say which to allow.
            typer.echo(
                "llm-tco: bound to every interface; requests must use a Host named with "
                "--allow-host (e.g. --allow-host my-box.local)",
                err=True,
            )
        shown = f"[{host}]" if ":" in host else host
        address = f"http://{shown}:{port}/"
        if token:
            typer.echo(
                f"llm-tco: WARNING: serving on {host}, reachable from the network; every "
                "request needs the access token",
                err=True,
            )
            typer.echo(f"llm-tco: {address}?token={token}  (API: Authorization: Bearer {token})")
        else:
            typer.echo(f"llm-tco: {address}  (API docs at /docs; Ctrl-C to stop)")
        if data_dir is not None:
            typer.echo(f"llm-tco: scenarios may name files inside {data_dir.resolve()}")
        # Evaluations run in worker threads; the event loop asks for the interpreter lock every
        # millisecond rather than every 5 ms, so /api/health answers at once while they run.
        sys.setswitchinterval(0.001)
        uvicorn.run(
            create_app(allowed_hosts=hosts, token=token, data_dir=data_dir),
            host=host,
            port=port,
            log_level="warning",
            limit_concurrency=MAX_CONNECTIONS,
            timeout_keep_alive=5,
        )
