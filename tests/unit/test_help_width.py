"""Every command's --help reads in full at 80 columns: no option name or value cut with "…",
no line wider than the terminal (typer's rich panels cut `--shared-prefix-len` to
`--shared-prefix…` at 80 columns; the plain layout wraps instead)."""

from __future__ import annotations

from typing import Any

import typer
from typer.testing import CliRunner

from llm_tco.cli import app


def _paths(command: Any, ctx: Any, path: list[str]) -> list[list[str]]:
    found = [path]
    if hasattr(command, "list_commands"):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                sub_ctx = sub.context_class(sub, info_name=name, parent=ctx)
                found += _paths(sub, sub_ctx, [*path, name])
    return found


def test_every_help_fits_80_columns() -> None:
    root = typer.main.get_command(app)
    paths = _paths(root, root.context_class(root, info_name="llm-tco"), [])
    assert len(paths) > 20  # every command and subcommand, not just the top level
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
        assert result.exit_code == 0, (path, result.output)
        assert "…" not in result.output, (path, result.output)
        wide = [line for line in result.output.splitlines() if len(line) > 80]
        assert not wide, (path, wide)
