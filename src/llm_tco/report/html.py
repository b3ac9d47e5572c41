"""The HTML report: one self-contained file (styles, Vega scripts and chart specs inlined).

It opens offline; every user string is escaped by Jinja2's autoescape, and chart specs go in
through ``tojson``, which escapes ``<``, ``>`` and ``&``.
"""

from __future__ import annotations

import datetime as dt
import functools
from importlib import metadata, resources
from typing import Any

import jinja2

from llm_tco.report.bench_view import BenchReport
from llm_tco.report.view import Report

ASSETS = resources.files("llm_tco.report") / "assets"
VENDOR_SCRIPTS = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")


def asset_text(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("llm_tco.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


@functools.cache
def _scripts() -> tuple[str, ...]:
    scripts = tuple(asset_text(name) for name in VENDOR_SCRIPTS)
    # Inlined verbatim: a closing tag inside would end the script element early.
    assert not any("</script" in s.lower() for s in scripts)
    return scripts


def package_version() -> str:
    try:
        return metadata.version("llm-tco")
    except metadata.PackageNotFoundError:
        return "dev"


def render_html(report: Report, generated: dt.datetime | None = None) -> str:
    """The report as one HTML document."""
    return _render(
        "report.html.j2", {"result": report.result}, report.view, report.charts, generated
    )


def render_bench_html(report: BenchReport, generated: dt.datetime | None = None) -> str:
    """A benchmark result (or a comparison of two) as one HTML document."""
    return _render("bench.html.j2", {}, report.view, report.charts, generated)


def _render(
    template: str,
    context: dict[str, Any],
    view: Any,
    charts: dict[str, Any],
    generated: dt.datetime | None,
) -> str:
    context = {
        **context,
        "view": view,
        "charts": charts,
        "css": asset_text("style.css"),
        "scripts": _scripts(),
        "version": package_version(),
        "generated": (generated or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC"),
    }
    return environment().get_template(template).render(context)
