"""docs/cli.md is every command's --help as the app has it now (written by docs/make_cli_md.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _maker():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_cli_md", ROOT / "docs" / "make_cli_md.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_cli_md_is_current() -> None:
    written = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert written == _maker().render(), (
        "docs/cli.md is out of date: run python docs/make_cli_md.py"
    )


def test_every_command_and_option_is_documented() -> None:
    from typer.testing import CliRunner

    from llm_tco.cli import app

    text = _maker().render()
    # Commands as the top-level --help lists them, each with its own section.
    listed = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    for name in ("evaluate", "recommend", "simulate", "sensitivity", "ingest", "capacity"):
        assert name in listed
        assert f"### `llm-tco {name}`" in text
    assert "#### `llm-tco catalog offers`" in text
    # The output format every listing and decision command shares.
    for name in ("recommend", "simulate", "sensitivity", "capacity", "validate-capacity"):
        section = text.split(f"### `llm-tco {name}`")[1].split("\n### ")[0]
        assert "`-f, --format <table\\|json\\|markdown\\|csv>`" in section, name
        assert "--json" not in section  # the old spelling still works, hidden from the docs


def test_readme_links_the_reference() -> None:
    assert "docs/cli.md" in (ROOT / "README.md").read_text(encoding="utf-8")
