"""Chat messages as aita builds them: a role, text, and the images attached to it.

Tasks build `LLMMessage`s; user code may still return plain OpenAI dicts from
`build_messages()`, and `as_messages` reads those once, here, so nothing else in aita
walks OpenAI content parts. Clients receive `LLMMessage`s. Only the OpenAI-compatible
client turns them into wire JSON (content parts, data URLs); the offline backend reads an
image's bytes straight from its attachment, with no base64 round trip.

An image is an `ImageAttachment`: a URL (`ImageURL`: https, or a `data:` URL) or an image
rendered only when it is sent (`LazyImage`: a scanned page), so a batch of hundreds of
pages never holds more rendered pages than there are calls in flight.
"""

from __future__ import annotations

import base64
import binascii
import io
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from PIL import Image, UnidentifiedImageError

from aita_cli.errors import BadRequestError

__all__ = [
    "EncodedImage",
    "ImageAttachment",
    "ImageURL",
    "LLMMessage",
    "LazyImage",
    "MessageLike",
    "as_messages",
    "messages_text",
]


@dataclass(frozen=True, slots=True)
class EncodedImage:
    """An image's file bytes as a model receives them, e.g. ("image/png", b"...")."""

    media_type: str
    data: bytes

    def pixel_size(self) -> tuple[int, int] | None:
        """(width, height) from the file's header, or None when Pillow cannot read it."""
        try:
            with Image.open(io.BytesIO(self.data)) as image:
                return image.size
        except (UnidentifiedImageError, OSError, ValueError):
            return None


class ImageAttachment(ABC):
    """An image a message carries. Nothing is loaded until a client asks for it."""

    @abstractmethod
    def identity(self) -> Any:
        """JSON data that names this image without loading it (for request fingerprints)."""

    @abstractmethod
    def load(self) -> EncodedImage:
        """The image's bytes now (a lazy page is rendered here). `BadRequestError` for an
        image only its URL names: aita fetches nothing itself."""

    @abstractmethod
    def pixel_size(self) -> tuple[int, int] | None:
        """(width, height) as sent, when known; token estimates are made from it."""

    def as_url(self) -> str:
        """The URL a provider receives: a `data:` URL unless the image is remote."""
        image = self.load()
        return f"data:{image.media_type};base64," + base64.b64encode(image.data).decode("ascii")


class ImageURL(ImageAttachment):
    """An image given by URL: https (the provider fetches it) or `data:...;base64,`."""

    __slots__ = ("url",)

    def __init__(self, url: str) -> None:
        self.url = url

    def identity(self) -> Any:
        return self.url

    def as_url(self) -> str:
        return self.url  # sent exactly as given: no decoding and re-encoding

    def load(self) -> EncodedImage:
        if not self.url.startswith("data:"):
            raise BadRequestError("this image is only a URL, and aita fetches nothing itself")
        header, _, payload = self.url.partition(",")
        if ";base64" not in header:
            raise BadRequestError("an image data: URL must be base64 (data:image/...;base64,)")
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequestError(f"an image data: URL is not valid base64: {exc}") from exc
        return EncodedImage(header.removeprefix("data:").split(";", 1)[0] or "image", data)

    def pixel_size(self) -> tuple[int, int] | None:
        if not self.url.startswith("data:"):
            return None
        try:
            return self.load().pixel_size()
        except BadRequestError:
            return None

    def __repr__(self) -> str:
        shown = self.url if len(self.url) <= 60 else self.url[:57] + "..."
        return f"ImageURL({shown!r})"


class LazyImage(ImageAttachment):
    """An image rendered only when a client sends it (a scanned page, say).

    `identity` names it for fingerprints; `size` computes its pixel size without
    rendering it (asked at most once).
    """

    __slots__ = ("_identity", "_loaded", "_render", "_size", "_size_known", "_sized")

    def __init__(
        self,
        render: Callable[[], EncodedImage],
        *,
        identity: Any,
        size: Callable[[], tuple[int, int] | None] | None = None,
    ) -> None:
        self._render = render
        self._identity = identity
        self._size = size
        self._sized: tuple[int, int] | None = None
        self._size_known = size is None
        self._loaded: EncodedImage | None = None

    def identity(self) -> Any:
        return self._identity

    def load(self) -> EncodedImage:
        # Rendered once per attachment: the cache key hashes the bytes and the client
        # sends them. The attachment lives only as long as its request's messages.
        if self._loaded is None:
            self._loaded = self._render()
        return self._loaded

    def pixel_size(self) -> tuple[int, int] | None:
        if not self._size_known and self._size is not None:
            self._sized = self._size()
            self._size_known = True
        return self._sized

    def __repr__(self) -> str:
        return f"LazyImage({self._identity!r})"


@dataclass(frozen=True, slots=True)
class LLMMessage:
    """One chat message: who speaks, what they say, and the images attached.

    `raw` is the OpenAI dict a message was read from (`from_openai`): it is what is sent
    and fingerprinted, exactly as given (its other keys, part order and roles
    included), while `text` and `images` are how aita's own backends read it.
    """

    role: str  # "system", "user" or "assistant" (an OpenAI dict may bring others)
    text: str = ""
    images: tuple[ImageAttachment, ...] = ()
    raw: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def system(cls, text: str) -> LLMMessage:
        return cls("system", text)

    @classmethod
    def user(cls, text: str, images: Iterable[ImageAttachment] = ()) -> LLMMessage:
        return cls("user", text, tuple(images))

    @classmethod
    def assistant(cls, text: str) -> LLMMessage:
        return cls("assistant", text)

    def identity(self) -> Any:
        """JSON data naming this message for fingerprints: its OpenAI dict when it was
        read from one, and a text-only message reads exactly as its dict would, so
        fingerprints of earlier journals still match."""
        if self.raw is not None:
            return self.raw
        if not self.images:
            return {"role": self.role, "content": self.text}
        images = [image.identity() for image in self.images]
        return {"role": self.role, "content": self.text, "images": images}

    @classmethod
    def from_openai(cls, message: Mapping[str, Any]) -> LLMMessage:
        """Read an OpenAI chat message dict: text content, or content parts (text parts
        joined by newlines, `image_url` parts as `ImageURL`s); the dict itself is kept
        as `raw`. `BadRequestError` when it is not one."""
        role = message.get("role")
        if not isinstance(role, str) or not role:
            raise BadRequestError(f"a message needs a role such as user, got {role!r}")
        content = message.get("content")
        if content is None or isinstance(content, str):
            return cls(role, content or "", raw=message)
        if not isinstance(content, list):
            raise BadRequestError("message content must be a string or a list of parts")
        texts, images = _read_parts(content)
        return cls(role, "\n".join(texts), tuple(images), raw=message)


def _read_parts(parts: list[Any]) -> tuple[list[str], list[ImageAttachment]]:
    texts: list[str] = []
    images: list[ImageAttachment] = []
    for part in parts:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text":
            texts.append(str(part.get("text", "")))
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, Mapping) else image
            images.append(ImageURL(str(url or "")))
        else:
            continue  # a part aita's own backends cannot read (audio, say) is still sent
    return texts, images


MessageLike: TypeAlias = LLMMessage | Mapping[str, Any]
"""What `build_messages()` may return items of: typed messages, or OpenAI dicts."""


def as_messages(messages: Iterable[MessageLike]) -> list[LLMMessage]:
    """Typed messages, reading any OpenAI dicts among them (the one place that does)."""
    return [
        message if isinstance(message, LLMMessage) else LLMMessage.from_openai(message)
        for message in messages
    ]


def messages_text(messages: Iterable[LLMMessage]) -> str:
    """All the text of all messages, joined by newlines (images left out)."""
    return "\n".join(message.text for message in messages)
