"""What a request must show before the app reads it: the right Host, a token, a body type.

* **Host** must name the address the server is bound to (or one the operator allowed): a page
  on another site that rebinds its DNS name to 127.0.0.1 sends its own name, and gets 400.
* **Token**: on a non-loopback address every request needs the token the server printed at
  start, as ``Authorization: Bearer TOKEN``, or once as ``/?token=TOKEN`` (which sets a cookie
  that only this site's pages send back).
* **Body type**: a POST must be ``application/json`` or ``application/yaml``. Those are not
  CORS "simple" types, so another site's script cannot send one without the browser asking
  this server first (a preflight it refuses); ``text/plain``, forms and multipart get 415.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from llm_tco.documents import MAX_YAML_BYTES
from llm_tco.web.errors import error_response

BODY_TYPES = frozenset({"application/json", "application/yaml"})
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
TOKEN_COOKIE = "llm_tco_token"
PUBLIC_PREFIXES = ("/static/", "/assets/")


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts_for(bind: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """Host names a request may use: the bound address (loopback names when it is loopback)."""
    names = {bind.strip("[]").lower(), *(h.strip("[]").lower() for h in extra)}
    if is_loopback(bind):
        names.update(LOOPBACK_NAMES)
    return frozenset(names)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _host_name(value: str) -> str:
    """``example.com:8000`` -> ``example.com``; ``[::1]:8000`` -> ``::1``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class RequestGuard:
    """ASGI middleware: Host allow-list (400), token (401), POST body type (415)."""

    def __init__(
        self, app: ASGIApp, *, allowed_hosts: frozenset[str] | None, token: str | None
    ) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path: str = scope.get("path", "")
        if self.allowed_hosts is not None:
            host = _host_name(headers.get("host", ""))
            if host not in self.allowed_hosts:
                response = error_response(
                    400,
                    "Host header does not name this server",
                    [{"field": "Host", "message": "not an allowed host", "hint": _host_hint()}],
                )
                await response(scope, receive, send)
                return
        if self.token is not None and not path.startswith(PUBLIC_PREFIXES):
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given = (query.get("token") or [""])[0]
            if path == "/" and given and _same(given, self.token):
                # Trade the token in the address for a cookie, and drop it from the address.
                redirect = RedirectResponse("/", status_code=303)
                redirect.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
                await redirect(scope, receive, send)
                return
            if not self._authorised(headers):
                response = error_response(
                    401,
                    "this server needs its access token",
                    [
                        {
                            "field": "Authorization",
                            "message": "missing or wrong token",
                            "hint": "open the address `llm-tco serve` printed (with ?token=), "
                            "or send Authorization: Bearer TOKEN",
                        }
                    ],
                )
                await response(scope, receive, send)
                return
        if scope.get("method") == "POST":
            media = headers.get("content-type", "").split(";")[0].strip().lower()
            if media not in BODY_TYPES:
                response = error_response(
                    415,
                    f"unsupported body type '{media or 'none'}'",
                    [
                        {
                            "field": "Content-Type",
                            "message": "send application/json or application/yaml",
                            "hint": None,
                        }
                    ],
                )
                await response(scope, receive, send)
                return
            declared = headers.get("content-length", "")
            if (
                media == "application/yaml"
                and declared.isdigit()
                and int(declared) > MAX_YAML_BYTES
            ):
                # Refused before the body is read: a scenario is a few KB.
                response = error_response(
                    413, f"YAML bodies are at most {MAX_YAML_BYTES // 1024 // 1024} MB"
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _authorised(self, headers: dict[str, str]) -> bool:
        assert self.token is not None
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and _same(auth[7:].strip(), self.token):
            return True
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header is no token
            return False
        morsel = cookie.get(TOKEN_COOKIE)
        return morsel is not None and _same(morsel.value, self.token)


def _host_hint() -> str:
    return "use the address `llm-tco serve` printed, or start it with --allow-host NAME"


def _same(given: str, token: str) -> bool:
    """Constant-time comparison (bytes: compare_digest refuses non-ASCII text)."""
    return secrets.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8"))
