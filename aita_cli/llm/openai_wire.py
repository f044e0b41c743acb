"""Typed messages as OpenAI chat-completions JSON: the one place aita encodes them.

A text-only message is `{"role", "content": text}`; a message with images is content
parts, its text first, then one `image_url` part per image (a lazy page is rendered
here, in the worker that sends it, and travels as a `data:` URL).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from aita_cli.llm.base import JsonSchemaSpec
from aita_cli.llm.messages import ImageAttachment, LLMMessage
from aita_cli.llm.task_kinds import SCHEMA_INSTRUCTION

__all__ = ["wire_messages", "with_schema_instruction"]


def wire_messages(messages: Sequence[LLMMessage]) -> list[dict[str, Any]]:
    """`messages` as the `messages` array of a chat-completions request body. Lazy
    images are rendered here: call it once per request."""
    return [_wire_message(message) for message in messages]


def _wire_message(message: LLMMessage) -> dict[str, Any]:
    if message.raw is not None:
        return dict(message.raw)  # an OpenAI dict from user code goes exactly as given
    if not message.images:
        return {"role": message.role, "content": message.text}
    parts: list[dict[str, Any]] = [{"type": "text", "text": message.text}] if message.text else []
    parts += [_image_part(image) for image in message.images]
    return {"role": message.role, "content": parts}


def _image_part(image: ImageAttachment) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": image.as_url()}}


def with_schema_instruction(
    wired: Sequence[dict[str, Any]], spec: JsonSchemaSpec
) -> list[dict[str, Any]]:
    """Wire messages asking for JSON in words, for endpoints without a `json_schema`
    format: the instruction joins the system message, or becomes one."""
    schema = orjson.dumps(spec["schema"]).decode()
    instruction = SCHEMA_INSTRUCTION.format(name=spec["name"], schema=schema)
    first = wired[0] if wired else None
    if (
        first is not None
        and first.get("role") == "system"
        and isinstance(first.get("content"), str)
    ):
        return [{**first, "content": f"{first['content']}\n\n{instruction}"}, *wired[1:]]
    return [{"role": "system", "content": instruction}, *wired]
