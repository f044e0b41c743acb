"""Placeholder for `aita generate-rubric` until its module lands."""

from __future__ import annotations

import typer

from aita_cli.cli.errors import exit_on_error
from aita_cli.errors import ConfigError


def register(app: typer.Typer) -> None:
    @app.command(name="generate-rubric")
    def _command() -> None:
        """Not available yet."""
        with exit_on_error():
            raise ConfigError("aita generate-rubric is not available yet")
