"""The endpoints to compare, each named like a scenario option, with the price it is billed at.

On the command line one endpoint is ``NAME=URL,model=MODEL[,price_in=USD,price_out=USD]``
with optional ``api=chat|completions``, ``key_env=VARIABLE`` (the API key is read from that
environment variable, never written anywhere), ``max_tokens=N`` and ``temperature=T``.
Prices are USD per million tokens, as the catalog and the scenario's ``api:`` give them.
"""

from __future__ import annotations

import os
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llm_tco.quality.errors import QualityError

Api = Literal["chat", "completions"]
KEYS = {
    "model": "model",
    "price_in": "input_per_mtok",
    "price_out": "output_per_mtok",
    "api": "api",
    "key_env": "key_env",
    "max_tokens": "max_tokens",
    "temperature": "temperature",
}


class Endpoint(BaseModel):
    """One OpenAI-compatible endpoint and how to ask it. Prices in USD per 1M tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    url: str
    model: str = Field(min_length=1)
    api: Api = "chat"
    input_per_mtok: float | None = Field(default=None, ge=0)
    output_per_mtok: float | None = Field(default=None, ge=0)
    key_env: str | None = None
    max_tokens: int = Field(default=512, ge=1, le=100_000)
    temperature: float = Field(default=0.0, ge=0, le=2)

    @property
    def priced(self) -> bool:
        return self.input_per_mtok is not None and self.output_per_mtok is not None

    def cost_usd(self, input_tokens: int, output_tokens: int) -> float | None:
        """What these tokens cost at the endpoint's price (None when no price was given)."""
        if self.input_per_mtok is None or self.output_per_mtok is None:
            return None
        return (input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / 1e6

    def api_key(self) -> str | None:
        if self.key_env is None:
            return None
        key = os.environ.get(self.key_env)
        if not key:
            raise QualityError(
                f"environment variable {self.key_env} is not set",
                field=f"--endpoint {self.name}",
                hint=f"export {self.key_env}=... or drop key_env",
            )
        return key


def parse_endpoint(text: str, flag: str = "--endpoint") -> Endpoint:
    """``NAME=URL,model=M,price_in=1,price_out=5`` -> :class:`Endpoint` (errors name the key)."""
    head, *rest = [part.strip() for part in text.split(",")]
    name, sep, url = head.partition("=")
    if not sep or not name or not url:
        raise QualityError(
            f"'{text}' does not start with NAME=URL",
            field=flag,
            hint="e.g. haiku=https://api.example.com/v1,model=claude-haiku-4-5,price_in=1,price_out=5",
        )
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise QualityError(f"'{url}' is not an http(s) URL", field=f"{flag} {name}")
    data: dict[str, object] = {"name": name, "url": url}
    for part in rest:
        key, sep, value = part.partition("=")
        if not sep or key not in KEYS:
            raise QualityError(
                f"unknown setting '{part}'",
                field=f"{flag} {name}",
                hint="settings: " + ", ".join(KEYS),
            )
        data[KEYS[key]] = value
    if "model" not in data:
        raise QualityError("missing model=...", field=f"{flag} {name}")
    try:
        return Endpoint.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = next((k for k, v in KEYS.items() if v == error["loc"][0]), str(error["loc"][0]))
        raise QualityError(error["msg"], field=f"{flag} {name}.{key}") from None
