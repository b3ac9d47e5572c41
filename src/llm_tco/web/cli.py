"""`llm-tco serve`: the web page and JSON API on this machine."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[
            str, typer.Option(help="address to bind; 0.0.0.0 exposes it to the network")
        ] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    ) -> None:
        """Serve the page at http://HOST:PORT/ and the JSON API under /api (schema at
        /openapi.json). Binds to loopback unless told otherwise."""
        # Heavy imports stay here so that other commands start fast.
        import uvicorn

        from llm_tco.web.app import create_app

        typer.echo(f"llm-tco: http://{host}:{port}/  (API docs at /docs; Ctrl-C to stop)")
        uvicorn.run(create_app(), host=host, port=port, log_level="warning")
