"""Rendering pages to JPEG (small upright PNGs as they are): PDF pages at a dpi, images
upright and grey or RGB, a size cap, and clear errors for files that cannot be read."""

from __future__ import annotations

import base64
import io
import random
import struct
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from aita_cli.domain.models import PageImage
from aita_cli.domain.pages import (
    _to_jpeg_mode,
    count_image_frames,
    count_pdf_pages,
    page_identity,
    page_pixel_size,
    render_page,
    render_page_jpeg,
)
from aita_cli.errors import InputError
from tests.domain.builders import make_encrypted_pdf, make_image, make_pdf


def pdf_page(path: Path, index: int = 0) -> PageImage:
    return PageImage(
        student="s", page_number=index + 1, source_path=path, source_kind="pdf",
        pdf_page_index=index,
    )  # fmt: skip


def image_page(path: Path, frame: int | None = None) -> PageImage:
    return PageImage(
        student="s", page_number=1, source_path=path, source_kind="image",
        image_frame_index=frame,
    )  # fmt: skip


def render_page_data_url(page: PageImage, **options: int) -> str:
    """The page as the data URL a provider would receive (what `render_page` sends)."""
    media_type, data = render_page(page, **options)
    return f"data:{media_type};base64," + base64.b64encode(data).decode()


def decode(jpeg: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG"
    return image


def test_pdf_page_renders_at_the_requested_dpi(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "a.pdf", pages=2, size=(144, 72))  # 2 x 1 inches
    image = decode(render_page_jpeg(pdf_page(pdf, 1), dpi=100))
    assert image.size == (200, 100)
    assert image.mode == "RGB"
    assert count_pdf_pages(pdf) == 2


def test_pdf_page_is_capped_at_max_side(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "poster.pdf", pages=1, size=(1440, 720))  # 20 x 10 inches
    image = decode(render_page_jpeg(pdf_page(pdf), dpi=300, max_side=400))
    assert image.size == (400, 200)


def test_missing_pdf_page_is_an_input_error(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "a.pdf", pages=1)
    with pytest.raises(InputError, match=r"a.pdf: has no page 3 \(it has 1\)"):
        render_page_jpeg(pdf_page(pdf, 2))


def test_exif_rotated_photo_comes_out_upright(tmp_path: Path) -> None:
    upright = Image.new("RGB", (40, 60), "white")
    upright.paste((0, 0, 0), (0, 0, 40, 10))  # a black band along the top edge
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated; viewers turn it 90 degrees clockwise
    path = tmp_path / "photo.jpg"
    upright.transpose(Image.Transpose.ROTATE_90).save(path, exif=exif)
    image = decode(render_page_jpeg(image_page(path)))
    assert image.size == (40, 60)
    top, bottom = image.getpixel((20, 3)), image.getpixel((20, 56))
    assert isinstance(top, tuple)
    assert isinstance(bottom, tuple)
    assert max(top) < 60
    assert min(bottom) > 200


def test_transparent_png_lands_on_white(tmp_path: Path) -> None:
    path = make_image(tmp_path / "clear.png", mode="RGBA")
    image = decode(render_page_jpeg(image_page(path)))
    assert image.mode == "RGB"
    pixel = image.getpixel((5, 5))
    assert isinstance(pixel, tuple)
    assert min(pixel) > 245


@pytest.mark.parametrize(("mode", "suffix"), [("P", ".png"), ("CMYK", ".jpg"), ("1", ".tiff")])
def test_colour_modes_become_rgb(tmp_path: Path, mode: str, suffix: str) -> None:
    path = make_image(tmp_path / f"page{suffix}", mode=mode)
    assert decode(render_page_jpeg(image_page(path))).mode == "RGB"


def test_grey_scans_stay_grey(tmp_path: Path) -> None:
    path = make_image(tmp_path / "page.png", mode="L")
    assert decode(render_page_jpeg(image_page(path))).mode == "L"


def test_16_bit_grey_keeps_its_levels(tmp_path: Path) -> None:
    path = tmp_path / "deep.png"
    Image.new("I;16", (30, 30), 32768).save(path)
    pixel = decode(render_page_jpeg(image_page(path))).getpixel((15, 15))
    assert isinstance(pixel, int)
    assert 120 <= pixel <= 136  # half of 65535 is half of 255, not clipped to white


def test_large_image_is_downscaled(tmp_path: Path) -> None:
    path = make_image(tmp_path / "big.webp", size=(1200, 600))
    assert decode(render_page_jpeg(image_page(path), max_side=300)).size == (300, 150)


def test_small_image_is_not_enlarged(tmp_path: Path) -> None:
    path = make_image(tmp_path / "small.png", size=(60, 40))
    assert decode(render_page_jpeg(image_page(path))).size == (60, 40)


def test_multi_page_tiff_frames(tmp_path: Path) -> None:
    path = tmp_path / "scan.tiff"
    frames = [Image.new("RGB", (30 + 10 * n, 20), "white") for n in range(3)]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    assert count_image_frames(path) == 3
    assert decode(render_page_jpeg(image_page(path, frame=2))).size == (50, 20)


def test_phone_mpo_jpeg_is_one_page(tmp_path: Path) -> None:
    path = tmp_path / "phone.jpg"
    frames = [Image.new("RGB", (40, 30), "white"), Image.new("RGB", (20, 15), "gray")]
    frames[0].save(path, "MPO", save_all=True, append_images=frames[1:])
    assert count_image_frames(path) == 1
    assert decode(render_page_jpeg(image_page(path))).size == (40, 30)


def test_data_url_prefix(tmp_path: Path) -> None:
    path = make_image(tmp_path / "p.jpg")
    url = render_page_data_url(image_page(path), quality=50)
    assert url.startswith("data:image/jpeg;base64,")
    decode(base64.b64decode(url.removeprefix("data:image/jpeg;base64,")))


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_an_upright_png_within_the_size_is_sent_as_it_is(tmp_path: Path, mode: str) -> None:
    path = make_image(tmp_path / "p.png", size=(300, 400), mode=mode)
    url = render_page_data_url(image_page(path), max_side=400)
    assert url == "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def _rotated_png(path: Path) -> Path:
    exif = Image.Exif()
    exif[0x0112] = 6  # EXIF orientation: rotate 90 degrees to view
    Image.new("L", (60, 40), 128).save(path, exif=exif)
    return path


@pytest.mark.parametrize(
    "make",
    [
        lambda path: make_image(path, size=(500, 100)),  # wider than max_side
        lambda path: make_image(path, mode="RGBA"),  # transparency must land on white
        lambda path: make_image(path, mode="I;16"),  # 16-bit levels must be scaled
        _rotated_png,  # must be turned upright
    ],
)
def test_other_pngs_become_jpegs(tmp_path: Path, make: Callable[[Path], Path]) -> None:
    url = render_page_data_url(image_page(make(tmp_path / "p.png")), max_side=400)
    assert url.startswith("data:image/jpeg;base64,")
    image = decode(base64.b64decode(url.removeprefix("data:image/jpeg;base64,")))
    assert max(image.size) <= 400


def _png(*chunks: tuple[bytes, bytes]) -> bytes:
    """A PNG file from raw chunks, each with a correct CRC."""
    body = b"".join(
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        for kind, data in chunks
    )
    return b"\x89PNG\r\n\x1a\n" + body


def _ihdr(width: int, height: int, bit_depth: int, colour_type: int) -> tuple[bytes, bytes]:
    return b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)


# Big-endian TIFF with one entry, Orientation = 1.
_UPRIGHT_EXIF = (
    b"eXIf",
    bytes.fromhex("4d4d002a00000008 0001 0112 0003 00000001 00010000 00000000"),
)
_SIDE = 200  # big enough that a flat page is compact enough to go as it is


def test_a_png_is_sent_without_its_metadata(tmp_path: Path) -> None:
    path = tmp_path / "p.png"
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Student, ID 12345")
    exif = Image.Exif()
    exif[0x0112] = 1  # upright
    Image.new("L", (60, 40), 128).save(path, pnginfo=info, exif=exif)
    url = render_page_data_url(image_page(path))
    assert url.startswith("data:image/png;base64,")
    sent = base64.b64decode(url.removeprefix("data:image/png;base64,"))
    assert b"Jane" not in sent
    assert b"eXIf" not in sent
    with Image.open(io.BytesIO(sent)) as image, Image.open(path) as original:
        assert image.tobytes() == original.tobytes()


@pytest.mark.parametrize(
    "content",
    [
        # a grey PNG whose value 0 is transparent: it must land on white
        _png(_ihdr(_SIDE, _SIDE, 8, 0), (b"tRNS", b"\x00\x00"),
             (b"IDAT", zlib.compress(bytes(_SIDE * (_SIDE + 1)))), (b"IEND", b"")),
        # 16 bits per channel RGB, which Pillow also calls "RGB"
        _png(_ihdr(_SIDE, _SIDE, 16, 2),
             (b"IDAT", zlib.compress(bytes(_SIDE * (6 * _SIDE + 1)))), (b"IEND", b"")),
    ],
)  # fmt: skip
def test_transparent_or_16_bit_rgb_pngs_become_jpegs(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "p.png"
    path.write_bytes(content)
    assert render_page_data_url(image_page(path)).startswith("data:image/jpeg;base64,")


def test_a_png_whose_pixels_do_not_decode_is_not_sent(tmp_path: Path) -> None:
    # Every checksum holds and an EXIF chunk comes first, but the pixels are not zlib.
    path = tmp_path / "p.png"
    path.write_bytes(
        _png(_ihdr(_SIDE, _SIDE, 8, 0), _UPRIGHT_EXIF, (b"IDAT", b"not zlib"), (b"IEND", b""))
    )
    with pytest.raises(InputError, match="unreadable image"):
        render_page_data_url(image_page(path))


def test_an_incompressible_png_becomes_a_jpeg(tmp_path: Path) -> None:
    # Noise (like a photo) takes a byte per pixel as PNG; its JPEG is the smaller upload.
    path = tmp_path / "noise.png"
    Image.frombytes("L", (200, 100), random.Random(3).randbytes(200 * 100)).save(path)
    url = render_page_data_url(image_page(path))
    assert url.startswith("data:image/jpeg;base64,")


def test_a_png_with_a_damaged_chunk_is_not_sent(tmp_path: Path) -> None:
    path = make_image(tmp_path / "p.png", size=(80, 80))
    data = bytearray(path.read_bytes())
    data[data.index(b"IDAT") + 6] ^= 0xFF  # the compressed pixels no longer match the CRC
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="unreadable image"):
        render_page_data_url(image_page(path))


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"\x89PNG\r\n\x1a\nbroken", "unreadable image"), (b"", "unreadable image")],
)
def test_unreadable_image_names_file_and_reason(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "submissions" / "bob" / "page1.png"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(InputError, match=rf"^submissions/bob/page1.png: {reason}"):
        render_page_jpeg(image_page(path))
    with pytest.raises(InputError, match=reason):
        count_image_frames(path)


def test_truncated_jpeg_fails_at_render(tmp_path: Path) -> None:
    path = make_image(tmp_path / "cut.jpg", size=(400, 400))
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(InputError, match=r"cut\.jpg: unreadable image"):
        render_page_jpeg(image_page(path))


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"%PDF-1.4 garbage", "the PDF is corrupt or not a PDF"), (b"", "the PDF is empty")],
)
def test_bad_pdf_names_file_and_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "x.pdf"
    path.write_bytes(content)
    with pytest.raises(InputError, match=f"^x.pdf: {reason}"):
        count_pdf_pages(path)
    with pytest.raises(InputError, match=f"^x.pdf: {reason}"):
        render_page_jpeg(pdf_page(path))


def test_encrypted_pdf_is_reported_as_such(tmp_path: Path) -> None:
    path = make_encrypted_pdf(tmp_path / "locked.pdf")
    with pytest.raises(InputError, match=r"locked\.pdf: the PDF is encrypted"):
        count_pdf_pages(path)


def test_page_identity_changes_with_the_file_not_the_render(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "a.pdf", pages=2)
    first, second = page_identity(pdf_page(pdf, 0)), page_identity(pdf_page(pdf, 1))
    assert first["path"] == "a.pdf"
    assert first["size"] == pdf.stat().st_size
    assert (first["pdf_page_index"], second["pdf_page_index"]) == (0, 1)
    make_pdf(pdf, pages=3)
    assert page_identity(pdf_page(pdf, 0))["size"] != first["size"]


def test_page_identity_does_not_depend_on_how_the_data_dir_is_spelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A run with --data-dir /abs/data and a resume with ./data are the same scans: the
    # fingerprints must match, or every page is paid for again.
    folder = tmp_path / "data" / "quiz" / "submissions" / "bob"
    folder.mkdir(parents=True)
    make_image(folder / "p1.png")
    monkeypatch.chdir(tmp_path)
    relative = page_identity(image_page(Path("data/quiz/submissions/bob/p1.png")))
    assert relative == page_identity(image_page(folder / "p1.png"))
    assert relative["path"] == "submissions/bob/p1.png"


def test_page_identity_of_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"gone\.png: cannot read the file"):
        page_identity(image_page(tmp_path / "gone.png"))


def test_concurrent_renders_match_sequential_ones(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "a.pdf", pages=4)
    pages = [pdf_page(pdf, n % 4) for n in range(16)]
    sequential = [render_page_jpeg(page) for page in pages[:4]]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(render_page_jpeg, pages))
    assert concurrent == sequential * 4


def test_bad_render_settings_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="quality"):
        render_page_jpeg(image_page(make_image(tmp_path / "p.png")), quality=0)


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_a_page_already_in_a_jpeg_mode_is_not_copied_again(mode: str) -> None:
    # The hot path of every image page: a full-size scan is copied once (EXIF
    # transpose), not twice. Measured on an A4 RGB scan at 300 dpi: 177 -> 159 ms.
    image = Image.new(mode, (8, 8))
    assert _to_jpeg_mode(image) is image


@pytest.mark.parametrize(
    ("size", "max_side"), [((300, 400), 2000), ((500, 100), 400), ((1240, 1754), 1000)]
)
def test_pixel_size_is_known_without_rendering(
    tmp_path: Path, size: tuple[int, int], max_side: int
) -> None:
    page = image_page(make_image(tmp_path / "p.png", size=size))
    _, data = render_page(page, max_side=max_side)
    with Image.open(io.BytesIO(data)) as sent:
        assert page_pixel_size(page, max_side=max_side) == sent.size


def test_pixel_size_of_a_pdf_page_matches_its_rendering(tmp_path: Path) -> None:
    page = pdf_page(make_pdf(tmp_path / "s.pdf", pages=1))
    with Image.open(io.BytesIO(render_page_jpeg(page, dpi=100))) as sent:
        width, height = page_pixel_size(page, dpi=100)
        assert abs(width - sent.size[0]) <= 1
        assert abs(height - sent.size[1]) <= 1


def test_pixel_size_of_a_turned_image_swaps_its_sides(tmp_path: Path) -> None:
    page = image_page(_rotated_png(tmp_path / "p.png"))
    assert page_pixel_size(page) == (40, 60)
