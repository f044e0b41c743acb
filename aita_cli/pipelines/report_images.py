"""Scaled copies of the scanned pages for the reports, written under report/pages/.

The report never points at the original scans: it is a folder that can be mailed, and
a 150-dpi PNG page is a megabyte or more. Each page is rendered once to a JPEG small
enough to read on screen; a copy newer than its scan is reused, so `aita report` after
`aita grade` renders nothing again.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from aita_cli.domain.naming import safe_name
from aita_cli.domain.pages import render_page_jpeg
from aita_cli.domain.submissions import StudentSubmission
from aita_cli.errors import InputError
from aita_cli.pipelines.files import write_bytes_atomic

__all__ = ["PAGES_DIR", "write_page_images"]

PAGES_DIR = "pages"
# Readable on a laptop screen beside the text (a line of handwriting stays legible),
# about 60-120 KB a page as JPEG at this quality.
_MAX_SIDE = 1100
_DPI = 110
_QUALITY = 70


def write_page_images(
    report_dir: Path, students: Iterable[StudentSubmission]
) -> tuple[dict[tuple[str, int], str], list[str]]:
    """Each page's copy, as {(student, page number): path relative to report_dir}, and
    a warning per page that could not be rendered (its scan is missing or broken)."""
    images: dict[tuple[str, int], str] = {}
    warnings: list[str] = []
    for student in students:
        stem = safe_name(student.output_name)
        for page in student.pages:
            relative = f"{PAGES_DIR}/{stem}/p{page.page_number:03d}.jpg"
            target = report_dir / relative
            try:
                if not _fresh(target, page.source_path):
                    data = render_page_jpeg(page, dpi=_DPI, max_side=_MAX_SIDE, quality=_QUALITY)
                    write_bytes_atomic(target, data)
            except InputError as error:
                warnings.append(f"report: page {page.page_number} of {student.name}: {error}")
                continue
            images[(student.output_name, page.page_number)] = relative
    return images, warnings


def _fresh(copy: Path, scan: Path) -> bool:
    try:
        return copy.stat().st_mtime >= scan.stat().st_mtime and copy.stat().st_size > 0
    except OSError:
        return False
