"""Memory stays flat: pages are rendered one at a time in the workers, never all at once."""

from __future__ import annotations

import base64
import os
import random
import tracemalloc
from pathlib import Path

import pytest
from PIL import Image

from aita_cli.cli.options import RunOptions
from aita_cli.domain.models import PageImage
from aita_cli.domain.pages import render_page
from aita_cli.pipelines.transcribe import run_transcribe
from aita_cli.simulate.server import SimulatorConfig, start_simulator
from tests.pipelines.transcribe_support import make_assignment

PAGES = 300
DPI, MAX_SIDE = 150, 2000


def _noise_page(path: Path) -> None:
    # Noise does not compress: each rendered page is a large JPEG, as a real scan is.
    width, height = 400, 560
    pixels = random.Random(5).randbytes(width * height)
    Image.frombytes("L", (width, height), pixels).save(path)


def test_peak_memory_over_300_pages_is_a_fraction_of_the_rendered_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    root = make_assignment(tmp_path / "data")
    folder = root / "submissions" / "many"
    folder.mkdir()
    original = tmp_path / "noise.png"
    _noise_page(original)
    for number in range(1, PAGES + 1):
        os.link(original, folder / f"page{number}.png")  # 300 pages, one file on disk
    _, rendered = render_page(
        PageImage(student="x", page_number=1, source_path=original, source_kind="image"),
        dpi=DPI,
        max_side=MAX_SIDE,
    )
    one_page = len(base64.b64encode(rendered))  # as it travels, in a data URL
    all_pages = one_page * PAGES

    with start_simulator(SimulatorConfig(latency=0.0)) as sim:
        for name, value in {
            "AITA_DATA_DIR": str(tmp_path / "data"),
            "AITA_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
            "AITA_PROVIDER": "openai",
            "AITA_BASE_URL": sim.url,
            "AITA_MODEL": "sim",
            "AITA_VISION_MODEL": "sim",
            "AITA_SHOW_PROGRESS": "false",
            "AITA_RATE_LIMIT_RPS": "0",
            "AITA_RENDER_DPI": str(DPI),
            "AITA_IMAGE_MAX_SIDE": str(MAX_SIDE),
        }.items():
            monkeypatch.setenv(name, value)
        tracemalloc.start()
        try:
            outcome = run_transcribe(RunOptions(assignment="quiz", workers=5))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert outcome.exit_code == 0
    assert outcome.detail.students[0]["pages_done"] == PAGES
    print(f"\npeak {peak / 1e6:.1f} MB for {PAGES} pages; all rendered: {all_pages / 1e6:.1f} MB")
    assert peak < all_pages / 3
