"""`aita costs`: what has been spent, from the cost ledger (every attempt ever made)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, get_args

import typer
from rich.markup import escape
from rich.table import Table

from aita_cli.cli.errors import exit_on_error
from aita_cli.cli.help_format import AitaCommand
from aita_cli.cli.render import make_console
from aita_cli.config import load_settings
from aita_cli.errors import InputError
from aita_cli.store import DATABASE_NAME, CostTotal, Store, TotalsBy

__all__ = ["register"]

_EPILOG = """\b
Examples:
  aita costs                          # every assignment, by model
  aita costs --assignment midterm --by operation
  aita costs --by day --csv > costs.csv
Cached hits cost nothing; "estimated" is the part of the cost that came from a
price table rather than the provider's own figure.
"""
_COLUMNS = ("calls", "cached hits", "prompt tokens", "completion tokens", "cost", "estimated")


def register(app: typer.Typer) -> None:
    """Add the `costs` command to the app."""

    @app.command(name="costs", epilog=_EPILOG, cls=AitaCommand)
    def costs(
        assignment: Annotated[
            str | None, typer.Option("--assignment", "-a", help="Only this assignment.")
        ] = None,
        by: Annotated[
            str, typer.Option("--by", metavar="<model|operation|day>", help="Group rows by.")
        ] = "model",
        as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV for spreadsheets.")] = False,
    ) -> None:
        """Show what calls have cost, from the ledger of every attempt."""
        console = make_console()
        with exit_on_error():
            if by not in get_args(TotalsBy):
                raise InputError(f"--by must be model, operation or day, got {by!r}")
            settings = load_settings()
            totals: list[CostTotal] = []
            if (settings.cache_dir / DATABASE_NAME).is_file():  # else: nothing yet
                with Store.open(settings.cache_dir) as store:
                    totals = store.totals(by, assignment)  # type: ignore[arg-type]
            if as_csv:
                typer.echo(_csv(by, totals), nl=False)
            elif not totals:
                where = f" for {assignment}" if assignment else ""
                console.print(f"no calls recorded{where} yet in {settings.cache_dir}")
            else:
                console.print(_table(by, totals, assignment))


def _row(total: CostTotal) -> list[str]:
    return [
        str(total.calls),
        str(total.cache_hits),
        f"{total.prompt_tokens:,}",
        f"{total.completion_tokens:,}",
        f"${total.cost:.4f}",
        f"${total.estimated_cost:.4f}",
    ]


def _sum(totals: list[CostTotal]) -> CostTotal:
    return CostTotal(
        key="total",
        calls=sum(t.calls for t in totals),
        cache_hits=sum(t.cache_hits for t in totals),
        prompt_tokens=sum(t.prompt_tokens for t in totals),
        completion_tokens=sum(t.completion_tokens for t in totals),
        cost=sum(t.cost for t in totals),
        estimated_cost=sum(t.estimated_cost for t in totals),
    )


def _table(by: str, totals: list[CostTotal], assignment: str | None) -> Table:
    title = f"costs of {assignment}" if assignment else "costs, every assignment"
    table = Table(title=escape(title), title_justify="left")
    table.add_column(by)
    for name in _COLUMNS:
        table.add_column(name, justify="right")
    for total in totals:
        table.add_row(escape(total.key), *_row(total))
    table.add_section()
    table.add_row("total", *_row(_sum(totals)), style="bold")
    return table


def _csv(by: str, totals: list[CostTotal]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([by, "calls", "cached_hits", "prompt_tokens", "completion_tokens",
                     "cost_usd", "estimated_usd"])  # fmt: skip
    for total in [*totals, _sum(totals)]:
        writer.writerow([total.key, total.calls, total.cache_hits, total.prompt_tokens,
                         total.completion_tokens, f"{total.cost:.6f}",
                         f"{total.estimated_cost:.6f}"])  # fmt: skip
    return buffer.getvalue()
