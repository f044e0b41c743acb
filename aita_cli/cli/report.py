"""`aita report`: rebuild the HTML reports from an assignment's results; no model call."""

from __future__ import annotations

import typer
from rich.markup import escape

from aita_cli.cli.errors import exit_on_error
from aita_cli.cli.help_format import AitaCommand
from aita_cli.cli.options import AssignmentOpt, DataDirOpt
from aita_cli.cli.render import make_console, print_messages
from aita_cli.config import load_settings
from aita_cli.domain.assignment import load_assignment
from aita_cli.pipelines.report import write_reports

__all__ = ["register"]

_EPILOG = """\b
Examples:
  aita report --assignment midterm
  aita report -a midterm --data-dir ~/teaching/data
Writes results/report/: index.html (the class), students/<student>.html
and review.html, with scaled page images under pages/. Open index.html in
a browser; the folder works offline and can be mailed as it is.
"""


def register(app: typer.Typer) -> None:
    """Add the `report` command to the app."""

    @app.command(name="report", epilog=_EPILOG, cls=AitaCommand)
    def report(assignment: AssignmentOpt, data_dir: DataDirOpt = None) -> None:
        """Rebuild the HTML reports from the results alone (transcripts and grades)."""
        console = make_console()
        with exit_on_error():
            settings = load_settings(data_dir=data_dir)
            result = write_reports(load_assignment(settings.data_dir, assignment))
            print_messages(console, warnings=result.warnings)
            stage = "grades and transcripts" if result.has_grades else "transcripts (no grades yet)"
            console.print(
                f"report of {result.students} student(s), from the {stage}: "
                f"{escape(str(result.folder / 'index.html'))}"
            )
            console.print(
                f"{result.images} page image(s), {_size(result.image_bytes)}; "
                f"{len(result.paths)} page(s) of HTML"
            )


def _size(count: int) -> str:
    return f"{count / 1024:.0f} KB" if count < 1024 * 1024 else f"{count / 1024 / 1024:.1f} MB"
