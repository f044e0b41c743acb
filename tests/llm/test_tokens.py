"""The one token estimator: text by length, images by their pixel size."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from aita_cli.llm.messages import EncodedImage, ImageURL, LazyImage, LLMMessage, as_messages
from aita_cli.llm.tokens import estimate_usage, image_tokens, prompt_tokens, text_tokens


def _png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size, 255).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("size", "tokens"),
    [
        ((1024, 1024), 765),  # OpenAI's own example: 768 x 768, 4 tiles
        ((2048, 4096), 1105),  # fit to 1024 x 2048, then 768 x 1536: 6 tiles
        ((1240, 1754), 1105),  # a 150-dpi A4 scan
        ((300, 400), 255),  # small: never scaled up, 1 tile
        ((0, 10), 85),
    ],
)
def test_image_tokens_follow_the_providers_rule(size: tuple[int, int], tokens: int) -> None:
    assert image_tokens(*size) == tokens


def test_text_is_about_four_characters_a_token() -> None:
    assert text_tokens("") == 0
    assert text_tokens("x" * 400) == 100
    assert text_tokens("x" * 401) == 101


def test_estimate_usage_counts_text_and_images_by_their_size() -> None:
    url = "data:image/png;base64," + base64.b64encode(_png((1024, 1024))).decode()
    messages = as_messages(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "x" * 400},
                    {"type": "image_url", "image_url": {"url": url}},
                ],
            }
        ]
    )
    usage = estimate_usage(messages, "y" * 40)
    assert usage.prompt_tokens == 100 + 765
    assert usage.completion_tokens == 10


def test_an_image_of_unknown_size_counts_as_a_full_page() -> None:
    remote = LLMMessage.user("", [ImageURL("https://example.org/page.png")])
    undecodable = LLMMessage.user("", [ImageURL("data:image/png;base64,AAAA")])
    assert prompt_tokens([remote]) == prompt_tokens([undecodable]) == 1105


def test_a_lazy_image_is_sized_without_rendering() -> None:
    def render() -> EncodedImage:
        raise AssertionError("an estimate must not render the page")

    image = LazyImage(render, identity="page-1", size=lambda: (1240, 1754))
    assert prompt_tokens([LLMMessage.user("", [image])]) == 1105
