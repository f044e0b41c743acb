"""`aita status`: where an assignment stands (read only; no call, no write)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aita_cli.cli.errors import exit_on_error
from aita_cli.cli.help_format import AitaCommand
from aita_cli.cli.options import AssignmentOpt, DataDirOpt
from aita_cli.cli.render import MAX_LISTED, make_console
from aita_cli.config import load_settings
from aita_cli.domain.assignment import load_assignment
from aita_cli.pipelines.status import AssignmentStatus, read_status

__all__ = ["register"]

_EPILOG = """\b
Examples:
  aita status --assignment midterm
Shows per stage (answer keys, rubrics, transcripts, grades) what is complete,
failed, missing or stale, the journals --resume would continue, the spend so far,
and the one command that would finish the job. Exit 0 whatever the state.
"""


def register(app: typer.Typer) -> None:
    """Add the `status` command to the app."""

    @app.command(name="status", epilog=_EPILOG, cls=AitaCommand)
    def status(assignment: AssignmentOpt, data_dir: DataDirOpt = None) -> None:
        """Show what is done, failed, missing, resumable and spent for an assignment."""
        console = make_console()
        with exit_on_error():
            settings = load_settings(data_dir=data_dir)
            found = read_status(settings, load_assignment(settings.data_dir, assignment))
            _render(found, console)


def _render(found: AssignmentStatus, console: Console) -> None:
    table = Table(title=escape(f"{found.exam_name} ({found.assignment})"), title_justify="left")
    table.add_column("stage")
    table.add_column("complete", justify="right")
    table.add_column("not done")
    for stage in found.stages:
        total = sum(stage.counts.values())
        shown = ", ".join(stage.not_done[:MAX_LISTED])
        if len(stage.not_done) > MAX_LISTED:
            shown += f" and {len(stage.not_done) - MAX_LISTED} more"
        table.add_row(stage.name, f"{stage.counts['complete']} / {total}", escape(shown) or "—")
    console.print(table)
    for journal in found.journals:
        state = "finished" if journal.finished else "not finished"
        console.print(
            f"journal ({journal.operation}, {state}): {journal.succeeded} done, "
            f"{journal.failed} failed — {escape(str(journal.path))}"
        )
    spent = (
        "unknown (the cost ledger cannot be read)" if found.spent is None else f"${found.spent:.4f}"
    )
    console.print(f"spent so far: {spent}")
    if found.next_command is None:
        console.print("[green]everything is done[/]")
    else:
        console.print(f"next: {escape(found.next_command)}")
