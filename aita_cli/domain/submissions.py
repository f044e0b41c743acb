"""Find every student's pages under `submissions/` without rendering any.

`submissions/<student>.pdf` is one student; `submissions/<student>/` is one student whose
PDFs and images are their pages, in natural order of file name. A student whose files
cannot be read gets a problem line and no pages; every other student is unaffected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from aita_cli.domain.assignment import Assignment
from aita_cli.domain.models import PageImage
from aita_cli.domain.naming import natural_key, safe_name
from aita_cli.domain.pages import count_image_frames, count_pdf_pages
from aita_cli.errors import InputError

__all__ = ["StudentSubmission", "SubmissionScan", "scan_submissions"]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"})
# Output names that would clash with files the transcription pipeline writes itself.
_RESERVED_OUTPUT_NAMES = frozenset({"index"})
_MAX_OUTPUT_NAME = 100  # file systems cap names at 255 bytes; leave room for suffixes


@dataclass(frozen=True)
class StudentSubmission:
    """One student's pages, or the problems that kept them from having any."""

    name: str  # as found: the PDF's stem or the folder's name
    output_name: str  # safe and unique among all students, for results/transcripts/
    pages: list[PageImage]  # page_number 1..N in natural order across files
    problems: list[str]  # non-empty means the student has no pages and fails


@dataclass(frozen=True)
class SubmissionScan:
    students: list[StudentSubmission]
    warnings: list[str]  # skipped files, e.g. "submissions/bob/notes.docx: unsupported ..."


@dataclass
class _Found:
    name: str
    path: Path
    pages: list[PageImage] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def scan_submissions(assignment: Assignment, only: Sequence[str] = ()) -> SubmissionScan:
    """Every student's submission, in natural order of name.

    `only` keeps just the students named (by name or output name); an unknown name is an
    InputError listing the students there are. Output names are decided over all students
    first, so a student's output name never depends on the filter.
    """
    folder = assignment.submissions_dir
    if not folder.is_dir():
        raise InputError(
            f"{assignment.name}/submissions: not found (put <student>.pdf files or "
            "<student>/ folders of PDFs and images there)"
        )
    try:
        found, warnings = _discover(folder)
    except OSError as exc:
        raise InputError(
            f"{assignment.name}/submissions: cannot read it ({exc.strerror or exc})"
        ) from exc
    if not found:
        skipped = f"; skipped {len(warnings)} other file(s)" if warnings else ""
        raise InputError(
            f"{assignment.name}/submissions: no student submissions in it (put "
            f"<student>.pdf files or <student>/ folders of PDFs and images there){skipped}"
        )
    output_names = _unique_output_names([entry.name for entry in found])
    pairs = [
        (entry, StudentSubmission(entry.name, output, entry.pages, entry.problems))
        for entry, output in zip(found, output_names, strict=True)
    ]
    if only:
        wanted = _resolve_only([student for _, student in pairs], only, assignment.name)
        pairs = [(entry, student) for entry, student in pairs if student.output_name in wanted]
    warnings += [warning for entry, _ in pairs for warning in entry.warnings]
    return SubmissionScan(students=[student for _, student in pairs], warnings=warnings)


def _discover(folder: Path) -> tuple[list[_Found], list[str]]:
    """Students in natural order, and warnings about top-level entries that are none."""
    found: list[_Found] = []
    warnings: list[str] = []
    for path in _visible_children(folder):
        label = f"submissions/{path.name}"
        if path.is_dir():
            found.append(_scan_folder(path))
        elif path.suffix.lower() == ".pdf":
            found.append(_scan_pdf_student(path))
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            warnings.append(
                f"{label}: an image directly in submissions/ is skipped; put a student's "
                f"images in a folder, e.g. submissions/{path.stem}/"
            )
        else:
            warnings.append(f"{label}: unsupported file type, skipped")
    found.sort(key=lambda entry: (natural_key(entry.name), entry.path.is_dir(), entry.name))
    _warn_same_names(found, warnings)
    return found, warnings


def _visible_children(folder: Path) -> list[Path]:
    """Entries in natural order, minus hidden files (.DS_Store, editor temp files)."""
    children = [path for path in folder.iterdir() if not path.name.startswith((".", "~$"))]
    return sorted(children, key=lambda path: (natural_key(path.name), path.name))


def _scan_pdf_student(path: Path) -> _Found:
    entry = _Found(name=path.stem, path=path)
    _add_file(entry, path, f"submissions/{path.name}")
    _finish(entry, f"submissions/{path.name}")
    return entry


def _scan_folder(folder: Path) -> _Found:
    entry = _Found(name=folder.name, path=folder)
    try:
        children = _visible_children(folder)
    except OSError as exc:
        entry.problems.append(f"submissions/{folder.name}/: cannot read it ({exc.strerror})")
        children = []
    for path in children:
        label = f"submissions/{folder.name}/{path.name}"
        if path.is_dir():
            entry.warnings.append(f"{label}: folder inside a student folder, skipped")
        elif path.suffix.lower() == ".pdf" or path.suffix.lower() in IMAGE_SUFFIXES:
            _add_file(entry, path, label)
        else:
            entry.warnings.append(f"{label}: unsupported file type, skipped")
    _finish(entry, f"submissions/{folder.name}/")
    return entry


def _add_file(entry: _Found, path: Path, label: str) -> None:
    """Append the file's pages to the student, or a problem when it cannot be read."""
    is_pdf = path.suffix.lower() == ".pdf"
    try:
        count = count_pdf_pages(path, label) if is_pdf else count_image_frames(path, label)
    except InputError as exc:
        entry.problems.append(str(exc))
        return
    if count == 0:
        entry.problems.append(f"{label}: the PDF has no pages")
    for index in range(count):
        entry.pages.append(
            PageImage(
                student=entry.name,
                page_number=len(entry.pages) + 1,
                source_path=path,
                source_kind="pdf" if is_pdf else "image",
                pdf_page_index=index if is_pdf else None,
                image_frame_index=index if not is_pdf and count > 1 else None,
            )
        )


def _finish(entry: _Found, label: str) -> None:
    """A student with any problem gets no pages: half a submission would be graded as
    if the rest were blank."""
    if not entry.problems and not entry.pages:
        entry.problems.append(f"{label}: no pages (no PDF or image files in it)")
    if entry.problems:
        entry.pages.clear()


def _warn_same_names(found: list[_Found], warnings: list[str]) -> None:
    for previous, current in pairwise(found):
        if previous.name == current.name:
            warnings.append(
                f"submissions/{previous.path.name} and submissions/{current.path.name}/ "
                f"both name student {current.name!r}; they are transcribed separately"
            )


def _unique_output_names(names: list[str]) -> list[str]:
    """Safe file names, distinct even on case-insensitive file systems: the second
    'Alice' (or 'alice?') becomes 'alice-2', never overwriting the first."""
    bases = [safe_name(name)[:_MAX_OUTPUT_NAME].rstrip("._") or "unnamed" for name in names]
    taken_bases = {base.casefold() for base in bases}
    used: set[str] = set(_RESERVED_OUTPUT_NAMES)
    result: list[str] = []
    for base in bases:
        candidate, counter = base, 2
        while candidate.casefold() in used or (
            candidate != base and candidate.casefold() in taken_bases
        ):
            candidate, counter = f"{base}-{counter}", counter + 1
        used.add(candidate.casefold())
        result.append(candidate)
    return result


def _resolve_only(
    students: list[StudentSubmission], only: Sequence[str], assignment_name: str
) -> set[str]:
    """Output names of the students asked for; InputError naming any unknown one."""
    wanted: set[str] = set()
    for given in only:
        matches = _matching(students, given) or _matching(students, _student_name_of(given))
        if not matches:
            known = ", ".join(s.name for s in students) or "none"
            raise InputError(
                f"no student {given!r} in {assignment_name}/submissions (students: {known})"
            )
        wanted.update(s.output_name for s in matches)
    return wanted


def _matching(students: list[StudentSubmission], requested: str) -> list[StudentSubmission]:
    """By exact name or output name, else by name ignoring case."""
    return [s for s in students if requested in (s.name, s.output_name)] or [
        s for s in students if requested.casefold() == s.name.casefold()
    ]


def _student_name_of(given: str) -> str:
    """What --student names: "alice", or as the file or folder is written, "alice.pdf",
    "alice/" or "submissions/alice.pdf" (shell completion gives those)."""
    name = given.strip().rstrip("/\\").removeprefix("submissions/")
    return name[:-4] if name.lower().endswith(".pdf") else name
