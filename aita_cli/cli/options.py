"""Options shared by generate-rubric and transcribe, declared once (DESIGN.md section 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
    "WorkersOpt",
]

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
ProviderOpt = Annotated[
    str | None,
    typer.Option("--provider", help="auto | openrouter | openai | offline \\[env: AITA_PROVIDER]."),
]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Model id \\[env: AITA_MODEL].")]
