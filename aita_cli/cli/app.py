"""The `aita` command: a Typer app with one module per command."""

from __future__ import annotations

import typer

from aita_cli import __version__
from aita_cli.cli import generate_rubric, simulate, transcribe

app = typer.Typer(
    name="aita",
    help="aita — answer keys, rubrics and transcripts from many LLM calls run at once.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"aita {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """aita — answer keys, rubrics and transcripts from many LLM calls run at once."""


generate_rubric.register(app)
transcribe.register(app)
simulate.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
