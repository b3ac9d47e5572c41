"""One error shape for every error the app returns, and the request body size limit.

``{"ok": false, "error": "...", "errors": [{"field": ..., "message": ..., "hint": ...}],
"status": 422}``, as datasette does; bad input is a 4xx naming the field, never a 500.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from llm_tco.errors import LlmTcoError

MAX_BODY_BYTES = 5 * 1024 * 1024
BODY_SECONDS = 30.0  # a body still arriving after this is dropped (slow uploads hold a slot)
log = logging.getLogger("llm_tco.web")


def error_body(
    status: int, message: str, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"ok": False, "error": message, "errors": errors or [], "status": status}


def error_response(
    status: int, message: str, errors: list[dict[str, Any]] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(status, message, errors), status_code=status)


class BodyTooLarge(Exception):
    """Raised while reading a streamed body that passes the limit."""


class BodyTooSlow(Exception):
    """Raised while reading a body that takes longer than ``BODY_SECONDS``."""


def _loc_to_field(loc: tuple[Any, ...]) -> str:
    """('body', 'volumes', 3) -> 'volumes[3]'; ('query', 'limit') -> 'limit'."""
    parts: list[str] = []
    for item in loc[1:] if loc and loc[0] in ("body", "query", "path") else loc:
        parts.append(f"[{item}]" if isinstance(item, int) else ("." if parts else "") + str(item))
    return "".join(parts) or str(loc[0] if loc else "body")


async def _llm_tco_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LlmTcoError)
    field = exc.field or "scenario"
    detail = {"field": field, "message": exc.message, "hint": exc.hint}
    return error_response(422, str(exc), [detail])


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": _loc_to_field(tuple(e.get("loc", ()))),
            "message": e.get("msg", "invalid"),
            "hint": None,
        }
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "body", "message": "invalid request"}
    return error_response(422, f"{first['field']}: {first['message']}", errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
    return error_response(exc.status_code, message)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # A bug, not bad input: log it and keep the shape (the fuzz tests guard against this).
    log.exception("unexpected error on %s", request.url.path)
    return error_response(500, f"internal error: {type(exc).__name__}")


async def _too_large(request: Request, exc: Exception) -> JSONResponse:
    return error_response(413, f"request body over {MAX_BODY_BYTES // 1024 // 1024} MB")


async def _too_slow(request: Request, exc: Exception) -> JSONResponse:
    return error_response(408, f"request body took over {BODY_SECONDS:g} s")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BodyTooLarge, _too_large)
    app.add_exception_handler(BodyTooSlow, _too_slow)
    app.add_exception_handler(LlmTcoError, _llm_tco_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413, by Content-Length or while streaming."""

    def __init__(
        self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, max_seconds: float = BODY_SECONDS
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False
        body_done = False
        deadline = asyncio.get_running_loop().time() + self.max_seconds

        async def counting_receive() -> Message:
            nonlocal received, body_done
            if body_done:  # after the body: e.g. waiting for a disconnect, not bounded here
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTooSlow from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
                body_done = not message.get("more_body", False)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send)
        except BodyTooSlow:
            if not started:
                response = error_response(408, f"request body took over {self.max_seconds:g} s")
                await response(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit_mb = self.max_bytes / 1024 / 1024
        response = error_response(413, f"request body over {limit_mb:g} MB")
        await response(scope, receive, send)
