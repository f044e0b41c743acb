"""Where a result came from, as written into aita's files (`source` fields).

Nothing aita writes may pass for a model's answer when it is not one: a result made
without a model carries one of these marks, and whatever reads results back (a later run
deciding what to redo, the Markdown and HTML views) checks them here.
"""

from __future__ import annotations

__all__ = ["OCR_SOURCE", "TEMPLATE_SOURCE"]

TEMPLATE_SOURCE = "offline-template"
"""An answer key or rubric from the offline templates, for the instructor to complete."""

OCR_SOURCE = "offline-ocr"
"""A page transcription read by on-device OCR, not by a vision model."""
