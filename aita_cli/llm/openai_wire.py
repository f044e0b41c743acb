"""Typed messages as OpenAI chat-completions JSON: the one place aita encodes them.

A text-only message is `{"role", "content": text}`; a message with images is content
parts, its text first, then one `image_url` part per image (a lazy page is rendered
here, in the worker that sends it, and travels as a `data:` URL).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import orjson

from aita_cli.llm.base import JsonSchemaSpec
from aita_cli.llm.messages import ImageAttachment, LLMMessage
from aita_cli.llm.task_kinds import SCHEMA_INSTRUCTION

__all__ = ["wire_messages", "with_schema_instruction"]


def wire_messages(messages: Sequence[LLMMessage]) -> list[dict[str, Any]]:
    """`messages` as the `messages` array of a chat-completions request body."""
    return [_wire_message(message) for message in messages]


def _wire_message(message: LLMMessage) -> dict[str, Any]:
    if not message.images:
        return {"role": message.role, "content": message.text}
    parts: list[dict[str, Any]] = [{"type": "text", "text": message.text}] if message.text else []
    parts += [
        {"type": "image_url", "image_url": {"url": image.as_url()}} for image in message.images
    ]
    return {"role": message.role, "content": parts}


def _image_part(image: ImageAttachment) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": image.as_url()}}


def with_schema_instruction(
    messages: Sequence[LLMMessage], spec: JsonSchemaSpec
) -> list[LLMMessage]:
    """`messages` asking for JSON in words, for endpoints without `response_format`: the
    instruction joins the system message, or becomes one."""
    schema = orjson.dumps(spec["schema"]).decode()
    instruction = SCHEMA_INSTRUCTION.format(name=spec["name"], schema=schema)
    first = messages[0] if messages else None
    if first is not None and first.role == "system" and not first.images:
        return [replace(first, text=f"{first.text}\n\n{instruction}"), *messages[1:]]
    return [LLMMessage.system(instruction), *messages]
