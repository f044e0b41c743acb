"""Real test files made on the spot: PDFs and images with Pillow, and a genuinely
password-protected PDF (PDF standard security handler, revision 2, RC4 40-bit)."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

from PIL import Image

# The 32-byte padding string of the PDF standard security handler (ISO 32000-1, 7.6.3.3).
_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def make_pdf(path: Path, pages: int = 2, size: tuple[int, int] = (200, 280)) -> Path:
    """A PDF with `pages` grey pages, `size` pixels at 72 dpi (so 1 px = 1 pt)."""
    images = [Image.new("L", size, 255 - 40 * n) for n in range(pages)]
    images[0].save(path, "PDF", resolution=72.0, save_all=True, append_images=images[1:])
    return path


def make_image(path: Path, size: tuple[int, int] = (60, 40), mode: str = "RGB") -> Path:
    color: int | tuple[int, ...] = 128 if len(mode) == 1 or mode.startswith("I") else (10, 20, 30)
    if mode == "RGBA":
        color = (0, 0, 0, 0)
    Image.new(mode, size, color).save(path)
    return path


def _rc4(key: bytes, data: bytes) -> bytes:
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


def make_encrypted_pdf(path: Path, user_password: bytes = b"secret") -> Path:
    """A one-page PDF that opens only with `user_password` (no content streams or
    strings, so nothing else needs encrypting)."""
    file_id = hashlib.md5(b"aita-test").digest()
    padded_user = (user_password + _PAD)[:32]
    owner = _rc4(hashlib.md5((b"owner" + _PAD)[:32]).digest()[:5], padded_user)
    permissions = -4
    key = hashlib.md5(padded_user + owner + struct.pack("<i", permissions) + file_id).digest()[:5]
    user = _rc4(key, _PAD)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <"
        + owner.hex().encode()
        + b"> /U <"
        + user.hex().encode()
        + b"> /P "
        + str(permissions).encode()
        + b" >>",
    ]
    body = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 4 0 R /ID [<%s> <%s>] >>\n" % (
        len(objects) + 1,
        file_id.hex().encode(),
        file_id.hex().encode(),
    )
    body += b"startxref\n%d\n%%%%EOF\n" % xref
    path.write_bytes(bytes(body))
    return path
