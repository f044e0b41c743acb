"""One client for OpenRouter and every OpenAI-compatible chat-completions endpoint.

    client = OpenAICompatibleClient("https://openrouter.ai/api/v1", key,
                                    model="openai/gpt-4o-mini", provider_name="openrouter")
    reply = client.complete(messages, json_schema={"name": "rubric", "schema": {...}})

One set of keep-alive connections per instance, shared by every worker thread and sized
to the workers (see `connection_pool`), so a run of hundreds of calls opens a handful of
connections. The client never retries (the executor owns retries, so every attempt is
counted and paced); it only translates failures once, through `openai_errors`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import orjson
from pydantic import SecretStr

from aita_cli.errors import BadRequestError, ConfigError, LLMTimeoutError, MalformedResponseError
from aita_cli.llm.base import JsonSchemaSpec, LLMResponse
from aita_cli.llm.connection_pool import PooledConnections
from aita_cli.llm.endpoints import checked_base_url, public_url
from aita_cli.llm.messages import LLMMessage, MessageLike, as_messages
from aita_cli.llm.openai_errors import (
    error_for_status,
    error_for_transport,
    message_in_body,
    redact,
)
from aita_cli.llm.openai_wire import wire_messages, with_schema_instruction
from aita_cli.llm.pricing import PriceTable
from aita_cli.llm.rate_headers import parse_rate_limit_headers
from aita_cli.llm.structured_output import FormatLadder, OutputFormat, refuses_format
from aita_cli.usage import Usage

__all__ = [
    "OPENAI_BASE_URL",
    "OPENROUTER_BASE_URL",
    "OpenAICompatibleClient",
]

OPENROUTER_BASE_URL = "https://openrouter.ai/api/v1"
OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_HTTP_REFERER = "https://pypi.org/project/aita-cli/"

_LABELS = {"openrouter": "OpenRouter", "openai": "OpenAI"}
_DEFAULT_URLS = {"openrouter": OPENROUTER_BASE_URL, "openai": OPENAI_BASE_URL}
_KEY_VARIABLES = {"openrouter": "OPENROUTER_API_KEY"}
# Everything from "//" to the last "@": a pasted password may hold "/" (or "@") itself.
_HEADER_VARIABLES = {"HTTP-Referer": "AITA_HTTP_REFERER", "X-Title": "AITA_APP_TITLE"}


def _no_limit(seconds: float) -> float | None:
    """None (wait as long as it takes) for an infinite timeout: sockets and locks
    reject infinity with an OverflowError."""
    return seconds if math.isfinite(seconds) else None


def _as_int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _field(mapping: Any, key: str) -> Any:
    """`mapping[key]` when `mapping` is a JSON object holding it, else None."""
    return mapping.get(key) if isinstance(mapping, dict) else None


def _read_usage(payload: Mapping[str, Any]) -> tuple[Usage, float | None]:
    """Tokens from `usage`, and the provider's own `usage.cost` when it gave one."""
    usage = payload.get("usage")
    tokens = Usage(
        prompt_tokens=_as_int(_field(usage, "prompt_tokens")),
        completion_tokens=_as_int(_field(usage, "completion_tokens")),
        reasoning_tokens=_as_int(
            _field(_field(usage, "completion_tokens_details"), "reasoning_tokens")
        ),
        cached_tokens=_as_int(_field(_field(usage, "prompt_tokens_details"), "cached_tokens")),
    )
    cost = _field(usage, "cost")
    if isinstance(cost, int | float) and not isinstance(cost, bool) and cost >= 0:
        return tokens, float(cost)
    return tokens, None


def _content_text(message: Any) -> str | None:
    """A reply message's text; some servers send content as a list of text parts."""
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, list):
        content = "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return content if isinstance(content, str) else None


def _check_ascii(headers: Mapping[str, str], key_variable: str) -> None:
    """`ConfigError` for a header value HTTP cannot carry (httpx would raise a bare
    UnicodeEncodeError); a pasted key often holds a typographic quote or dash."""
    for name, value in headers.items():
        if value.isascii():
            continue
        if name == "Authorization":  # never quote the value: it holds the key
            raise ConfigError(
                f"{key_variable} holds a character that is not plain ASCII (a pasted "
                "typographic quote or dash?): check it for stray characters"
            )
        source = _HEADER_VARIABLES.get(name, f"the {name} header")
        raise ConfigError(f"{source} holds a character that is not plain ASCII: {value!r}")


class OpenAICompatibleClient:
    """An `LLMClient` over HTTP for OpenRouter, OpenAI, Ollama, vLLM, LM Studio, llama.cpp.

    Safe to share between threads. `transport` is the test seam (an
    `httpx.MockTransport`, say); `prices` estimates cost when the reply carries none.
    `key_variable` names where the key came from, for "check the key" messages.
    `reason` says why this provider was picked, for `describe()`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: SecretStr | None,
        *,
        model: str,
        vision_model: str | None = None,
        provider_name: str = "openai-compatible",
        max_connections: int = 5,
        connect_timeout: float = 10.0,
        read_timeout: float = 120.0,
        extra_headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        prices: PriceTable | None = None,
        key_variable: str | None = None,
        reason: str = "",
        supports_vision: bool = True,
    ) -> None:
        self._base_url = checked_base_url(base_url)
        self._endpoint = public_url(self._base_url)
        self._chat_url = f"{self._base_url}/chat/completions"
        # A pasted key often ends in a space or newline, which no HTTP header may hold.
        secret = api_key.get_secret_value().strip() if api_key is not None else ""
        self._api_key = SecretStr(secret) if secret else None
        self.model = model
        self.vision_model = vision_model or model
        self.provider_name = provider_name
        self._key_variable = key_variable or _KEY_VARIABLES.get(provider_name, "AITA_API_KEY")
        self._reason = reason
        self._supports_vision = supports_vision
        self._read_timeout = read_timeout
        self._prices = prices if prices is not None else PriceTable()
        # Which structured output each model accepts, learnt from refusals: once a model
        # refused a format, it is asked in the next form straight away.
        self._formats = FormatLadder()
        self._connections = PooledConnections(
            max_connections=max_connections,
            headers=self._headers(extra_headers),
            timeout=httpx.Timeout(_no_limit(read_timeout), connect=_no_limit(connect_timeout)),
            transport=transport,
        )

    def _headers(self, extra_headers: Mapping[str, str] | None) -> dict[str, str]:
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        headers["User-Agent"] = "aita-cli"
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key.get_secret_value()}"
        if self.provider_name == "openrouter":
            # OpenRouter's app attribution: who is calling, shown in its dashboards.
            headers["HTTP-Referer"] = DEFAULT_HTTP_REFERER
            headers["X-Title"] = "aita"
        headers.update(extra_headers or {})
        _check_ascii(headers, self._key_variable)
        return headers

    @property
    def supports_vision(self) -> bool:
        """Whether messages may carry image parts (the vision model decides the rest)."""
        return self._supports_vision

    @property
    def is_local(self) -> bool:
        """False: a server answers, with its own limits and prices (even on localhost)."""
        return False

    def model_for(self, *, vision: bool = False) -> str:
        """The configured model for text requests, or the vision model for images."""
        return self.vision_model if vision else self.model

    def describe(self) -> str:
        """E.g. "OpenRouter (openai/gpt-4o-mini) — OPENROUTER_API_KEY is set"."""
        label = _LABELS.get(self.provider_name, "OpenAI-compatible endpoint")
        models = self.model
        if self.vision_model != self.model:
            models = f"{self.model}, vision {self.vision_model}"
        text = f"{label} ({models})"
        if self._base_url != _DEFAULT_URLS.get(self.provider_name):
            text += f" at {self._endpoint}"
        return f"{text} — {self._reason}" if self._reason else text

    def cache_scope(self) -> str:
        return self._endpoint  # where requests go (no password); the model is in the key

    def complete(self, messages: Sequence[MessageLike], **params: Any) -> LLMResponse:
        """Run one chat completion, or raise an `LLMError`. Never retries."""
        typed = as_messages(messages)
        model = self._model_for(params)
        response = self._post_negotiating(typed, model, params)
        if not response.is_success:
            raise error_for_status(
                response,
                provider=self._label(),
                key_variable=self._key_variable,
                has_key=self._api_key is not None,
                secret=self._secret(),
            )
        return self._parse(response, model)

    def close(self) -> None:
        """Close pooled connections; safe to call twice."""
        self._connections.close()

    def __enter__(self) -> OpenAICompatibleClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        key = "set" if self._api_key is not None else "none"
        return (
            f"OpenAICompatibleClient(provider={self.provider_name!r}, "
            f"base_url={self._endpoint!r}, model={self.model!r}, api_key={key})"
        )

    # -- request -----------------------------------------------------------------

    def _label(self) -> str:
        return _LABELS.get(self.provider_name, self._endpoint)

    def _secret(self) -> str | None:
        return self._api_key.get_secret_value() if self._api_key is not None else None

    def _model_for(self, params: Mapping[str, Any]) -> str:
        chosen = params.get("model")
        if isinstance(chosen, str) and chosen:
            return chosen
        return self.model_for(vision=bool(params.get("vision")))

    def _post_negotiating(
        self, messages: list[LLMMessage], model: str, params: Mapping[str, Any]
    ) -> httpx.Response:
        """Post, stepping structured output down while the endpoint refuses it (see
        `structured_output`): capability negotiation, not a retry. The messages are
        encoded (and their pages rendered) once, however many tries it takes."""
        wired = wire_messages(messages)
        if params.get("json_schema") is None:
            return self._post(self._body(wired, model, params, None))
        output = self._formats.current(model)
        while True:
            response = self._post(self._body(wired, model, params, output))
            if not refuses_format(response, output):
                return response
            output = self._formats.step_down(model, output)

    def _body(
        self,
        wired: list[dict[str, Any]],
        model: str,
        params: Mapping[str, Any],
        output: OutputFormat | None,
    ) -> dict[str, Any]:
        spec: JsonSchemaSpec | None = params.get("json_schema")
        if spec is not None and output is not OutputFormat.JSON_SCHEMA:
            wired = with_schema_instruction(wired, spec)
        body: dict[str, Any] = {"model": model, "messages": wired}
        if spec is not None and output is OutputFormat.JSON_SCHEMA:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": spec["name"], "schema": spec["schema"], "strict": True},
            }
        elif spec is not None and output is OutputFormat.JSON_OBJECT:
            body["response_format"] = {"type": "json_object"}
        for key in ("temperature", "max_tokens"):
            if params.get(key) is not None:
                body[key] = params[key]
        if self.provider_name == "openrouter":
            body["usage"] = {"include": True}  # OpenRouter then reports the real cost
        return body

    def _post(self, body: dict[str, Any]) -> httpx.Response:
        try:
            content = orjson.dumps(body)
        except orjson.JSONEncodeError as exc:
            raise BadRequestError(f"the request cannot be sent as JSON: {exc}") from exc
        try:
            response = self._connections.post(
                self._chat_url, content, wait=_no_limit(self._read_timeout)
            )
        except TimeoutError:
            raise LLMTimeoutError(f"no free connection to {self._endpoint} in time") from None
        except httpx.LocalProtocolError:
            # Not chained: httpx's message quotes the offending header, the key included.
            raise BadRequestError(
                f"the request to {self._endpoint} could not be sent: a header is invalid "
                f"(check {self._key_variable} for stray characters)"
            ) from None
        except httpx.RequestError as exc:
            raise error_for_transport(
                exc, endpoint=self._endpoint, read_timeout=self._read_timeout
            ) from exc
        # The closed stream still points back at its response: a reference cycle that
        # keeps the request body (a whole page image) alive until the cycle collector
        # runs, so dozens pile up. A plain byte stream breaks the cycle.
        response.stream = httpx.ByteStream(response.content)
        return response

    # -- reply -------------------------------------------------------------------

    def _parse(self, response: httpx.Response, model: str) -> LLMResponse:
        try:
            payload = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            kind = response.headers.get("content-type", "no content type").split(";")[0]
            text = f"{self._label()} replied with something other than JSON ({kind})"
            if self.provider_name not in _DEFAULT_URLS:  # a hand-typed AITA_BASE_URL
                text += ": is AITA_BASE_URL the API's URL (often ending in /v1)?"
            raise MalformedResponseError(text, status_code=response.status_code) from exc
        if not isinstance(payload, dict):
            raise MalformedResponseError(f"{self._label()} replied with JSON that is no object")
        answered_model = payload.get("model")
        if not isinstance(answered_model, str) or not answered_model:
            answered_model = model
        usage, provider_cost = _read_usage(payload)
        estimated = provider_cost is None
        if provider_cost is None:
            cost = self._estimate(model, answered_model, usage)
        else:
            cost = provider_cost
        try:
            content, finish_reason = self._choice(payload)
        except MalformedResponseError as exc:
            # The attempt was paid for: carry its usage and cost to the ledger.
            raise MalformedResponseError(
                str(exc), usage=usage, cost=cost, cost_is_estimate=estimated, status_code=200
            ) from None
        hint = parse_rate_limit_headers(response.headers)
        return LLMResponse(content, usage, cost, answered_model, finish_reason, estimated, hint)

    def _choice(self, payload: Mapping[str, Any]) -> tuple[str, str]:
        """The first choice's text and finish reason, or `MalformedResponseError`."""
        label = self._label()
        if payload.get("error"):
            detail = redact(message_in_body(payload) or "no details", self._secret())
            raise MalformedResponseError(f"{label} returned an error in a 200 reply: {detail}")
        choices = payload.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise MalformedResponseError(f"{label} replied without any choices")
        finish_reason = str(choices[0].get("finish_reason") or "stop")
        if finish_reason == "length":
            raise MalformedResponseError(
                f"{label} cut the reply short at the token limit (finish_reason length)"
            )
        content = _content_text(choices[0].get("message"))
        if not content:
            raise MalformedResponseError(f"{label} replied with an empty message")
        return content, finish_reason

    def _estimate(self, model: str, answered_model: str, usage: Usage) -> float:
        """Cost from the price table: by the model asked for, else the one that answered."""
        priced = model if self._prices.is_known(model) else answered_model
        return self._prices.cost(priced, usage.prompt_tokens, usage.completion_tokens)
