"""Text recognition for the offline backend: a small protocol and its rapidocr engine.

rapidocr and onnxruntime come from the `ocr` extra; they are imported on first use, so
aita runs without them until a page actually needs reading.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from PIL import Image

from aita_cli.errors import OCRUnavailableError

__all__ = ["OcrEngine", "OcrLine", "RapidOcrEngine"]

OCR_INSTALL_HINT = (
    "offline transcription needs the OCR extra: pip install 'aita-cli[ocr]' "
    "(make install does this)"
)


@dataclass(frozen=True, slots=True)
class OcrLine:
    """One recognised line: its text, recognition score (0..1) and top-left corner."""

    text: str
    score: float
    box_top: float
    box_left: float


@runtime_checkable
class OcrEngine(Protocol):
    """Reads the lines of text in an image. Must be safe to call from many threads."""

    def read(self, image: Image.Image) -> list[OcrLine]:
        """Every line found, in any order."""
        ...


class RapidOcrEngine:
    """rapidocr (PP-OCR models on onnxruntime, shipped in its wheel: no download).

    The 180-degree line classifier is off: on upright scans it flips good lines into
    garbage. Text detection runs on the page scaled so its longest side is at most
    `detection_side` pixels (PaddleOCR's classic 960): rapidocr's own default scales the
    *shortest* side up to 736 and reads a 150-dpi A4 page at full size, about twice as
    slow for the same text. One engine is shared and guarded by a lock, because calls come
    from worker threads and the pipeline keeps per-call state; onnxruntime already uses
    every core.
    """

    def __init__(self, detection_side: int = 960) -> None:
        self._detection_side = detection_side
        self._engine: Any = None
        self._lock = threading.Lock()

    def read(self, image: Image.Image) -> list[OcrLine]:
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        with self._lock:
            result = self._loaded()(rgb)
        texts = result.txts or ()
        scores = result.scores or ()
        boxes = result.boxes if result.boxes is not None else ()
        return [
            OcrLine(
                text=str(text),
                score=float(score),
                box_top=float(min(point[1] for point in box)),
                box_left=float(min(point[0] for point in box)),
            )
            for text, score, box in zip(texts, scores, boxes, strict=False)
        ]

    def _loaded(self) -> Any:
        """The rapidocr engine, created on first use (call with the lock held)."""
        if self._engine is None:
            try:
                from rapidocr import RapidOCR
            except ImportError as exc:
                raise OCRUnavailableError(OCR_INSTALL_HINT) from exc
            self._engine = RapidOCR(
                params={
                    "Global.use_cls": False,
                    "Global.log_level": "error",
                    "Det.limit_type": "max",
                    "Det.limit_side_len": self._detection_side,
                }
            )
        return self._engine
