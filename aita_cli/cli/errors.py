"""Turn errors into aita's exit codes (docs/architecture.md): one line on stderr, no
traceback unless AITA_DEBUG=1."""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape

from aita_cli.errors import EXIT_INTERRUPTED, EXIT_TASKS_FAILED, AitaError

__all__ = ["debug_enabled", "exit_on_error", "stderr"]

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def debug_enabled() -> bool:
    return os.environ.get("AITA_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


@contextmanager
def exit_on_error() -> Iterator[None]:
    """Run a command body; map AitaError to its exit code and Ctrl-C to 130."""
    try:
        yield
    except AitaError as exc:
        if debug_enabled():
            traceback.print_exc()
        # Escaped: messages quote file names and JSON, whose brackets are not markup.
        stderr.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        stderr.print("interrupted")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if debug_enabled():
            traceback.print_exc()
        stderr.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))} "
            "(set AITA_DEBUG=1 for the traceback, and please report it)",
            markup=True,
        )
        raise typer.Exit(EXIT_TASKS_FAILED) from None
