"""The `aita` command: a Typer app with one module per command."""

from __future__ import annotations

import sys

import typer

from aita_cli import __version__
from aita_cli.cli import costs, generate_rubric, grade, report, simulate, status, transcribe
from aita_cli.cli.errors import stderr
from aita_cli.cli.help_format import AitaGroup
from aita_cli.errors import EXIT_INTERRUPTED, EXIT_USAGE

app = typer.Typer(
    name="aita",
    cls=AitaGroup,
    help="aita — answer keys, rubrics, transcripts and grades from many LLM calls run at once.",
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
    """aita — answer keys, rubrics, transcripts and grades from many LLM calls run at once."""


generate_rubric.register(app)
transcribe.register(app)
grade.register(app)
report.register(app)
status.register(app)
costs.register(app)
simulate.register(app)


def main() -> None:
    """Console-script entry point: usage errors become one line too, like every error."""
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:  # a bad flag, option value or command name
        message = exc.format_message().strip()
        context = getattr(exc, "ctx", None)
        where = f" (see {context.command_path} --help)" if context is not None else ""
        if message:  # empty when the help was shown because no arguments were given
            stderr.print(f"error: {message}{where}", markup=False)
        sys.exit(int(getattr(exc, "exit_code", EXIT_USAGE)))
    except typer.Abort:
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(code if isinstance(code, int) else 0)
