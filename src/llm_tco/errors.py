"""Exceptions that teach: each names the field or thing at fault and how to fix it.

The CLI prints ``str(error)`` on one line and exits with status 2.
"""

from __future__ import annotations

import sys


class LlmTcoError(Exception):
    """Base class for every error llm-tco raises on bad input."""

    def __init__(self, message: str, *, field: str | None = None, hint: str | None = None) -> None:
        self.message = message
        self.field = field
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"{self.field}: {self.message}" if self.field else self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        return text


class ScenarioError(LlmTcoError):
    """A scenario file or one of its fields is invalid."""


class CatalogLookupError(LlmTcoError):
    """A name (model, GPU, provider, offer) is not in the catalog."""


class CatalogDataError(LlmTcoError):
    """A catalog data file is malformed (a bug in the shipped data or a user override)."""


class LogFormatError(LlmTcoError):
    """A log file cannot be read in the requested or detected format."""


class BenchError(LlmTcoError):
    """A benchmark run or result file is invalid."""


def print_error(error: LlmTcoError | str) -> None:
    """The one way every command reports an error: ``error: ...`` on one line of stderr."""
    sys.stderr.write(f"error: {error}\n")


# `rich_markup_mode` of every command group: click's plain --help, which puts a long option name
# on a line of its own and wraps the help beside it, where typer's rich panels cut names and
# values to "--shared-prefix…" at 80 columns.
PLAIN_HELP = None
