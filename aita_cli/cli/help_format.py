"""Help that shows flags as flags.

Typer 0.29's Rich help prints every option's type in its second column, flags included,
so `--resume <bool>` (and Typer's own `--help <bool>`) reads as if it took a value; its
plain, Click-style help leaves flags bare. Where an option has a metavar, the Rich help
prints that instead of the type, and an empty one prints nothing. Every command and the
root group use these classes (`cls=`); a test checks each command's help.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand, TyperGroup, TyperOption

__all__ = ["AitaCommand", "AitaGroup"]


class AitaCommand(TyperCommand):
    """A command whose help shows its flags without a type."""

    # `ctx` is Click's Context, which Typer keeps in a private module: Any says no more.
    def get_params(self, ctx: Any) -> list[Any]:
        return _bare_flags(super().get_params(ctx))


class AitaGroup(TyperGroup):
    """The root group, whose help shows --version and --help without a type."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _bare_flags(super().get_params(ctx))


def _bare_flags(params: list[Any]) -> list[Any]:
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
    return params
