"""Turn one submission page (a PDF page or an image) into an image for a vision model.

A page is rendered only when it is sent, one at a time, so memory stays flat however many
pages a batch holds. A compact, upright 8-bit grey or RGB PNG within the size cap is sent
as it is (its image chunks only); everything else becomes a JPEG. How the bytes travel
(a data URL, a file part) is the model client's business, not this module's.

PDFium is not thread-safe, so every call into pypdfium2 - counting pages here and in the
scan, rendering - holds `PDFIUM_LOCK`; the JPEG encoding that follows runs outside it.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import pypdfium2 as pdfium
from PIL import ExifTags, Image, ImageOps

from aita_cli.domain.models import PageImage
from aita_cli.errors import InputError

__all__ = [
    "count_image_frames",
    "count_pdf_pages",
    "page_identity",
    "page_pixel_size",
    "render_page",
    "render_page_jpeg",
]

PDFIUM_LOCK = threading.Lock()
"""Held around every pypdfium2 call in aita: PDFium keeps global state."""

_PDFIUM_REASONS = {
    pdfium.raw.FPDF_ERR_FILE: "the file cannot be opened",
    pdfium.raw.FPDF_ERR_FORMAT: "the PDF is corrupt or not a PDF",
    pdfium.raw.FPDF_ERR_PASSWORD: "the PDF is encrypted (password-protected); "
    "save an unprotected copy and try again",
    pdfium.raw.FPDF_ERR_SECURITY: "the PDF uses an unsupported security handler",
}
_WHITE = (255, 255, 255)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Only compact PNGs go as they are. A scan of text compresses to a few hundredths of
# a byte per pixel; a photo or a noisy scan takes a byte or more, and its JPEG (roughly
# half a byte per pixel) is the smaller upload.
_PNG_AS_IS_MAX_BYTES_PER_PIXEL = 0.25
_PNG_AS_IS_MAX_BYTES = 1_500_000  # and never a larger upload than this, however big the page


def source_label(path: Path) -> str:
    """How messages name a page's file: from `submissions/` on when it is in there
    (submissions/bob/page2.jpg), else just the file name."""
    parts = path.parts
    if "submissions" in parts:
        start = len(parts) - 1 - parts[::-1].index("submissions")
        return "/".join(parts[start:])
    return path.name


@contextmanager
def _open_pdf(path: Path, label: str) -> Iterator[Any]:
    """Open a PDF under the PDFium lock, translating PDFium's failures into InputError.
    The caller must still hold the lock while it uses the document."""
    try:
        if path.stat().st_size == 0:
            raise InputError(f"{label}: the PDF is empty (0 bytes)")
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        reason = _PDFIUM_REASONS.get(exc.err_code, f"PDFium could not read it ({exc})")
        raise InputError(f"{label}: {reason}") from exc
    except OSError as exc:
        raise InputError(f"{label}: cannot read the file ({exc.strerror or exc})") from exc
    try:
        yield document
    finally:
        document.close()


def count_pdf_pages(path: Path, label: str | None = None) -> int:
    """Number of pages in a PDF, without rendering any. InputError when it cannot be
    opened (corrupt, encrypted, empty); 0 pages is returned as 0."""
    with PDFIUM_LOCK, _open_pdf(path, label or source_label(path)) as document:
        return len(document)


def count_image_frames(path: Path, label: str | None = None) -> int:
    """Pages in an image file (a multi-page TIFF has several), checking that Pillow can
    read it. Reads headers and checks integrity where cheap; decodes no pixels."""
    label = label or source_label(path)
    try:
        with _quiet_size_warnings(), Image.open(path) as image:
            # Only TIFF frames are pages: a phone's JPEG (MPO) or an animated WebP/PNG
            # also has frames, but they are not further pages of a scan.
            frames = int(getattr(image, "n_frames", 1)) if image.format == "TIFF" else 1
            image.verify()
    except Exception as exc:  # Pillow raises a zoo of types for bad files
        raise InputError(f"{label}: unreadable image ({_describe(exc)})") from exc
    return frames


def render_page_jpeg(
    page: PageImage, *, dpi: int = 150, max_side: int = 2000, quality: int = 85
) -> bytes:
    """The page as JPEG bytes: upright, grey or RGB, longest side at most `max_side` pixels.

    PDF pages are rendered at `dpi`; images keep their resolution unless too large.
    Raises InputError naming the file and the reason when the page cannot be read.
    """
    if dpi <= 0 or max_side <= 0 or not 1 <= quality <= 100:
        raise ValueError("dpi and max_side must be positive and quality within 1..100")
    if page.source_kind == "pdf":
        image = _render_pdf_page(page, dpi, max_side)
    else:
        image = _load_image(page, max_side)
    try:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
    finally:
        image.close()
    return buffer.getvalue()


def render_page(
    page: PageImage, *, dpi: int = 150, max_side: int = 2000, quality: int = 85
) -> tuple[str, bytes]:
    """The page as a vision model receives it: (media type, file bytes). The PNG file
    itself when `_png_as_is` allows, otherwise the JPEG of `render_page_jpeg`."""
    png = _png_as_is(page, max_side)
    if png is not None:
        return "image/png", png
    return "image/jpeg", render_page_jpeg(page, dpi=dpi, max_side=max_side, quality=quality)


def page_pixel_size(page: PageImage, *, dpi: int = 150, max_side: int = 2000) -> tuple[int, int]:
    """(width, height) of the page as `render_page` sends it, without rendering it: from
    the PDF page's size or the image's header. InputError when the file cannot be read."""
    if page.source_kind == "pdf":
        width, height = _pdf_page_points(page)
        scale = min(dpi / 72, max_side / max(width, height, 1.0))
        return _fit(round(width * scale), round(height * scale), max_side)
    label = source_label(page.source_path)
    try:
        with _quiet_size_warnings(), Image.open(page.source_path) as opened:
            if page.image_frame_index:
                opened.seek(page.image_frame_index)
            width, height = opened.size
            # EXIF orientations 5-8 turn the page a quarter: width and height swap.
            if opened.getexif().get(ExifTags.Base.Orientation, 1) in (5, 6, 7, 8):
                width, height = height, width
    except Exception as exc:  # Pillow raises a zoo of types for bad files
        raise InputError(f"{label}: unreadable image ({_describe(exc)})") from exc
    return _fit(width, height, max_side)


def _fit(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The size after shrinking to fit a `max_side` square, as `Image.thumbnail` does."""
    longest = max(width, height, 1)
    if longest <= max_side:
        return width, height
    return max(1, round(width * max_side / longest)), max(1, round(height * max_side / longest))


def _pdf_page_points(page: PageImage) -> tuple[float, float]:
    label = source_label(page.source_path)
    index = page.pdf_page_index or 0
    with PDFIUM_LOCK, _open_pdf(page.source_path, label) as document:
        if not 0 <= index < len(document):
            raise InputError(f"{label}: has no page {index + 1} (it has {len(document)})")
        width, height = document.get_page_size(index)
    return float(width), float(height)


def _png_as_is(page: PageImage, max_side: int) -> bytes | None:
    """A PNG page as a model can take it without re-encoding, else None.

    That is an 8-bit grey or RGB PNG without transparency, one frame, upright (no EXIF
    rotation), its longest side within `max_side`, and compact (see
    `_PNG_AS_IS_MAX_BYTES_PER_PIXEL`). Re-encoding such a page costs more than a
    millisecond of CPU and makes a lossless scan lossy, and for text its JPEG is often
    the larger file. Only its image chunks are sent (see `_image_chunks`). Any doubt,
    a file that does not decode or fails its checksums included, returns None, so the
    JPEG path reports the problem.
    """
    if page.source_kind != "image" or page.image_frame_index:
        return None
    try:
        with page.source_path.open("rb") as file:
            data = file.read(_PNG_AS_IS_MAX_BYTES + 1)
        if len(data) > _PNG_AS_IS_MAX_BYTES or not _is_8bit_grey_or_rgb_png(data):
            return None
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if not (
                max(width, height) <= max_side
                and len(data) <= _PNG_AS_IS_MAX_BYTES_PER_PIXEL * width * height
                and "transparency" not in image.info
                and not getattr(image, "is_animated", False)
                and image.getexif().get(ExifTags.Base.Orientation, 1) == 1
            ):
                return None
            image.load()  # the pixels decode
        with Image.open(io.BytesIO(data)) as image:
            image.verify()  # and every chunk's checksum holds
    except Exception:  # Pillow raises a zoo of types for bad files
        return None
    return _image_chunks(data)


def _is_8bit_grey_or_rgb_png(data: bytes) -> bool:
    """From the PNG header itself: Pillow opens 16-bit RGB as mode "RGB" too."""
    return (
        data.startswith(_PNG_SIGNATURE)
        and len(data) > 25
        and data[12:16] == b"IHDR"
        and data[24] == 8  # bit depth
        and data[25] in (0, 2)  # colour type: grey, RGB
    )


def _image_chunks(data: bytes) -> bytes | None:
    """The PNG with only its IHDR, IDAT and IEND chunks, copied as they are.

    The others (text, EXIF, timestamps, colour profiles) may name the student, the
    scanner or where a photo was taken, and a model does not need them.
    """
    kept = [_PNG_SIGNATURE]
    offset = len(_PNG_SIGNATURE)
    while offset + 12 <= len(data):
        end = offset + 12 + int.from_bytes(data[offset : offset + 4], "big")
        kind = data[offset + 4 : offset + 8]
        if kind in (b"IHDR", b"IDAT", b"IEND"):
            kept.append(data[offset:end])
        if kind == b"IEND":
            return b"".join(kept)
        offset = end
    return None  # no IEND chunk: not a whole PNG


def page_identity(page: PageImage) -> dict[str, object]:
    """What identifies a page's content for a request fingerprint, without rendering it:
    the file's path within submissions/, size and modification time, and which page or
    frame within it. Not the full path: the same scans reached as ./data or /abs/data
    must not be paid for again on resume, nor redo a complete transcript."""
    try:
        stat = page.source_path.stat()
    except OSError as exc:
        label = source_label(page.source_path)
        raise InputError(f"{label}: cannot read the file ({exc.strerror or exc})") from exc
    return {
        "path": source_label(page.source_path),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "pdf_page_index": page.pdf_page_index,
        "image_frame_index": page.image_frame_index,
    }


def _render_pdf_page(page: PageImage, dpi: int, max_side: int) -> Image.Image:
    label = source_label(page.source_path)
    index = page.pdf_page_index or 0
    with PDFIUM_LOCK, _open_pdf(page.source_path, label) as document:
        if not 0 <= index < len(document):
            raise InputError(f"{label}: has no page {index + 1} (it has {len(document)})")
        pdf_page = document[index]
        try:
            width, height = pdf_page.get_size()
            # Render straight at the capped size: a poster-sized page never exists in
            # memory at full dpi only to be shrunk afterwards.
            scale = min(dpi / 72, max_side / max(width, height, 1.0))
            bitmap = pdf_page.render(scale=scale)
            try:
                image: Image.Image = bitmap.to_pil().convert("RGB")  # copies out of PDFium's buffer
            finally:
                bitmap.close()
        except pdfium.PdfiumError as exc:
            raise InputError(f"{label}: page {index + 1} cannot be rendered ({exc})") from exc
        finally:
            pdf_page.close()
    return image


def _load_image(page: PageImage, max_side: int) -> Image.Image:
    label = source_label(page.source_path)
    try:
        with _quiet_size_warnings(), Image.open(page.source_path) as opened:
            if page.image_frame_index:
                opened.seek(page.image_frame_index)
            # JPEG can decode at 1/2, 1/4, 1/8 scale: never hold the full-size scan.
            opened.draft("RGB", (max_side, max_side))
            upright = ImageOps.exif_transpose(opened)
            return _to_jpeg_mode(upright)
    except Exception as exc:  # Pillow raises a zoo of types for bad files
        raise InputError(f"{label}: unreadable image ({_describe(exc)})") from exc


def _to_jpeg_mode(image: Image.Image) -> Image.Image:
    """8-bit grey or RGB on a white background, whatever the colour mode and bit depth.

    Grey scans stay grey: JPEG carries them as they are, in a third of the bytes and
    encoding time of RGB, and a vision model reads them the same.
    """
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _to_8bit_gray(image)
    if mode in ("L", "RGB"):
        return image  # already a private copy (exif_transpose): converting copies again
    if mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, _WHITE)
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")  # ValueError for exotic modes, reported by the caller


def _to_8bit_gray(image: Image.Image) -> Image.Image:
    """Scale 16-bit or float grey levels into 0..255 (a plain convert would clip)."""
    as_float = image.convert("F")
    if image.mode.startswith("I;16"):
        low, high = 0.0, 65535.0
    else:
        extrema = cast("tuple[float, float]", as_float.getextrema())
        low, high = float(extrema[0]), float(extrema[1])
    span = high - low or 1.0
    return as_float.point(lambda value: (value - low) * (255.0 / span)).convert("L")


@contextmanager
def _quiet_size_warnings() -> Iterator[None]:
    """Large scans trip Pillow's decompression-bomb warning; they are shrunk anyway, and
    a truly absurd size still fails with DecompressionBombError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    return text if text else type(exc).__name__
