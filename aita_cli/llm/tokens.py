"""The one token estimator: how many tokens a request's text and images will cost.

Used wherever aita must know tokens before (or without) a provider's count: `--dry-run`
plans, the offline backend's and `aita simulate`'s `usage`, and token budgets. Text is
counted at about four characters a token (the rule of thumb for English with OpenAI's and
most other tokenizers); an estimate, good to the order of magnitude a plan needs.

Images are counted from their pixel size by OpenAI's documented rule for vision models at
high (and auto) detail: the image is scaled to fit a 2048 x 2048 square, then down so its
shortest side is at most 768 pixels; each 512-pixel tile costs 170 tokens, plus 85 per
image. A 150-dpi A4 scan (1240 x 1754) is 6 tiles, 1,105 tokens.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from aita_cli.llm.messages import ImageAttachment, LLMMessage
from aita_cli.usage import Usage

__all__ = [
    "attachment_tokens",
    "estimate_usage",
    "image_tokens",
    "prompt_tokens",
    "text_tokens",
]

CHARS_PER_TOKEN = 4
_FIT_SIDE = 2048  # first, the image must fit a square of this side
_SHORT_SIDE = 768  # then its shortest side is brought down to this
_TILE_SIDE = 512
_TOKENS_PER_TILE = 170
_TOKENS_PER_IMAGE = 85
# An image only its URL names has no size we can know: count it as a full page, the
# largest thing aita sends (a 2000-pixel A4 scan, scaled as above: 6 tiles).
UNKNOWN_IMAGE_SIZE = (1414, 2000)


def text_tokens(text: str) -> int:
    """About how many tokens `text` is: ~4 characters each, 0 for no text."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def image_tokens(width: int, height: int) -> int:
    """Tokens an image of this pixel size costs a vision model (see the module doc)."""
    if width <= 0 or height <= 0:
        return _TOKENS_PER_IMAGE
    scale = min(1.0, _FIT_SIDE / max(width, height))
    scale *= min(1.0, _SHORT_SIDE / (min(width, height) * scale))
    tiles = math.ceil(width * scale / _TILE_SIDE) * math.ceil(height * scale / _TILE_SIDE)
    return _TOKENS_PER_IMAGE + _TOKENS_PER_TILE * tiles


def attachment_tokens(image: ImageAttachment) -> int:
    """Tokens an attached image costs: from its pixel size, or a full page's if unknown."""
    return image_tokens(*(image.pixel_size() or UNKNOWN_IMAGE_SIZE))


def prompt_tokens(messages: Iterable[LLMMessage]) -> int:
    """Estimated prompt tokens of a request: every message's text and images."""
    return sum(
        text_tokens(message.text) + sum(attachment_tokens(image) for image in message.images)
        for message in messages
    )


def estimate_usage(messages: Iterable[LLMMessage], reply: str) -> Usage:
    """The usage a call with these messages and this reply would report."""
    return Usage(prompt_tokens=prompt_tokens(messages), completion_tokens=text_tokens(reply))
