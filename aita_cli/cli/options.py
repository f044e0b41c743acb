"""The options every pipeline command shares (docs/architecture.md), declared once.

Typer has no option groups, so `with_run_options` adds them to a command's signature:
the command declares only its own options and receives the shared ones as one
`RunOptions`. Their names, order and defaults are `RunOptions`'s fields.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Annotated, Any, Concatenate, ParamSpec, get_args

import typer

from aita_cli.config import ProviderName
from aita_cli.pipelines.runner import RunOptions

__all__ = [
    "AssignmentOpt",
    "DataDirOpt",
    "DryRunOpt",
    "ForceOpt",
    "MaxCostOpt",
    "ModelOpt",
    "ProviderOpt",
    "RateLimitOpt",
    "ResumeOpt",
    "RunOptions",
    "StudentOpt",
    "TpmOpt",
    "WorkersOpt",
    "with_run_options",
]

P = ParamSpec("P")

AssignmentOpt = Annotated[
    str, typer.Option("--assignment", "-a", help="Assignment folder name under the data dir.")
]
DataDirOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Where assignment folders live \\[env: AITA_DATA_DIR]."),
]
ResumeOpt = Annotated[
    bool, typer.Option("--resume", help="Continue the latest checkpoint: run only what is missing.")
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Regenerate results that already exist.")]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Validate and print the plan; call no model.")
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", min=1, help="Concurrent tasks \\[env: AITA_MAX_WORKERS]."),
]
RateLimitOpt = Annotated[
    float | None,
    typer.Option(
        "--rate-limit",
        min=0.0,
        help="Requests per second, 0 = unlimited \\[env: AITA_RATE_LIMIT_RPS].",
    ),
]
MaxCostOpt = Annotated[
    float | None,
    typer.Option("--max-cost", min=0.0, help="Stop starting tasks once this many USD are spent."),
]
TpmOpt = Annotated[
    int | None,
    typer.Option(
        "--tpm",
        min=1,
        help="Tokens per minute (prompt + reply) all requests may use "
        "\\[env: AITA_TOKENS_PER_MINUTE].",
    ),
]
# Shown as a choice of the settings' own names, but checked by Settings as AITA_PROVIDER
# is, so a typo in either gets the same one-line error naming the flag or the variable.
ProviderOpt = Annotated[
    str | None,
    typer.Option(
        "--provider",
        metavar=f"<{'|'.join(get_args(ProviderName))}>",
        help="Where requests go; auto picks from the keys and URL set \\[env: AITA_PROVIDER].",
    ),
]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Model id \\[env: AITA_MODEL].")]
NoCacheOpt = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        help="Ask the model even when the cache holds the reply \\[env: AITA_NO_CACHE].",
    ),
]
StudentOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--student",
        "-s",
        metavar="<name>",
        help="Only this student (alice, alice.pdf or alice/ in submissions/); repeatable.",
    ),
]

# Each RunOptions field's option; a field added without one fails here, at import.
_SHARED: dict[str, Any] = {
    "assignment": AssignmentOpt,
    "data_dir": DataDirOpt,
    "resume": ResumeOpt,
    "force": ForceOpt,
    "dry_run": DryRunOpt,
    "workers": WorkersOpt,
    "rate_limit": RateLimitOpt,
    "max_cost": MaxCostOpt,
    "tpm": TpmOpt,
    "provider": ProviderOpt,
    "model": ModelOpt,
    "no_cache": NoCacheOpt,
}
_PARAMETERS = [
    inspect.Parameter(
        field.name,
        inspect.Parameter.KEYWORD_ONLY,
        annotation=_SHARED[field.name],
        default=inspect.Parameter.empty if field.default is MISSING else field.default,
    )
    for field in fields(RunOptions)
]


def with_run_options(command: Callable[Concatenate[RunOptions, P], None]) -> Callable[..., None]:
    """Give `command` the shared options; its first parameter receives them as one
    `RunOptions`, its other (keyword) parameters are its own options.

    The help lists --assignment first, then the command's own options, then the rest
    of the shared ones. Use it under `@app.command(...)`.
    """
    own = list(inspect.signature(command, eval_str=True).parameters.values())[1:]
    assignment, *rest = _PARAMETERS
    parameters = [assignment, *(p.replace(kind=p.KEYWORD_ONLY) for p in own), *rest]

    call: Callable[..., None] = command  # its own options arrive by name, unchecked

    @functools.wraps(command)
    def run(**values: Any) -> None:
        shared = {name: values.pop(name) for name in _SHARED}
        call(RunOptions(**shared), **values)

    # Typer reads the signature (and these annotations) to build the options.
    run.__signature__ = inspect.Signature(parameters, return_annotation=None)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in parameters}
    return run
