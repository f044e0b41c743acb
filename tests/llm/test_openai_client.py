"""The OpenAI-compatible client: what it sends, what it reads back, over real sockets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from aita_cli.errors import BadRequestError, ConfigError, ServerError
from aita_cli.llm.base import LLMClient
from aita_cli.llm.messages import EncodedImage, LazyImage, LLMMessage
from aita_cli.llm.openai_client import OpenAICompatibleClient
from aita_cli.llm.pricing import PriceTable
from aita_cli.usage import Usage
from tests.llm.openai_loopback import LoopbackServer, Recorded, Reply, completion, serve

KEY = "sk-test-SECRET-0123456789"
MESSAGES = [{"role": "system", "content": "You grade exams."}, {"role": "user", "content": "hi"}]
SCHEMA = {"name": "rubric", "schema": {"type": "object", "properties": {}}}


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with serve() as running:
        yield running


def _client(server: LoopbackServer, **options: Any) -> OpenAICompatibleClient:
    options.setdefault("model", "text-model")
    return OpenAICompatibleClient(server.url, SecretStr(KEY), **options)


def test_is_an_llm_client_and_sends_the_request(server: LoopbackServer) -> None:
    with _client(server) as client:
        assert isinstance(client, LLMClient)
        reply = client.complete(MESSAGES, temperature=0.2, max_tokens=300, json_schema=SCHEMA)
    assert reply.content == "hello"
    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body["model"] == "text-model"
    assert request.body["messages"] == MESSAGES
    assert request.body["temperature"] == 0.2
    assert request.body["max_tokens"] == 300
    assert request.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "rubric", "schema": SCHEMA["schema"], "strict": True},
    }
    assert "usage" not in request.body  # only OpenRouter understands usage.include


def test_vision_params_choose_the_vision_model(server: LoopbackServer) -> None:
    with _client(server, vision_model="eye-model") as client:
        client.complete(MESSAGES, vision=True)
        client.complete(MESSAGES)
        client.complete(MESSAGES, vision=True, model="override")
    assert [r.body["model"] for r in server.requests] == ["eye-model", "text-model", "override"]


def test_local_endpoint_without_key_sends_no_authorization(server: LoopbackServer) -> None:
    with OpenAICompatibleClient(server.url + "/", None, model="llama3") as client:
        client.complete(MESSAGES)
    assert "authorization" not in server.requests[0].headers
    assert server.requests[0].path == "/v1/chat/completions"


def test_openrouter_sends_attribution_and_asks_for_cost(server: LoopbackServer) -> None:
    with _client(server, provider_name="openrouter") as client:
        client.complete(MESSAGES)
    [request] = server.requests
    assert request.headers["http-referer"].startswith("https://")
    assert request.headers["x-title"] == "aita"
    assert request.body["usage"] == {"include": True}


def test_reads_usage_and_the_providers_cost(server: LoopbackServer) -> None:
    usage = {
        "prompt_tokens": 120,
        "completion_tokens": 40,
        "completion_tokens_details": {"reasoning_tokens": 12},
        "prompt_tokens_details": {"cached_tokens": 100},
        "cost": 0.00042,
    }
    server.script(Reply(body=completion("ok", model="vendor/answered", usage=usage)))
    with _client(server) as client:
        reply = client.complete(MESSAGES)
    assert reply.usage == Usage(120, 40, reasoning_tokens=12, cached_tokens=100)
    assert reply.cost == 0.00042
    assert not reply.cost_is_estimate
    assert reply.model == "vendor/answered"
    assert reply.finish_reason == "stop"


def test_without_a_cost_prices_from_the_table_as_an_estimate(server: LoopbackServer) -> None:
    usage = {"prompt_tokens": 1_000_000, "completion_tokens": 500_000}
    server.script(Reply(body=completion(usage=usage)))
    prices = PriceTable({"text-model": (1.0, 4.0)})
    with _client(server, prices=prices) as client:
        reply = client.complete(MESSAGES)
    assert reply.cost == pytest.approx(3.0)
    assert reply.cost_is_estimate


def test_unknown_model_costs_nothing_as_an_estimate(server: LoopbackServer) -> None:
    server.script(Reply(body=completion(usage={"prompt_tokens": 5, "completion_tokens": 5})))
    with _client(server, model="llama3:8b") as client:
        reply = client.complete(MESSAGES)
    assert reply.cost == 0.0
    assert reply.cost_is_estimate


def _refuses_response_format(request: Recorded) -> Reply:
    if "response_format" in request.body:
        return Reply(400, {"error": {"message": "response_format json_schema is not supported"}})
    return Reply(body=completion('{"ok": true}'))


def _format_sent(request: Recorded) -> str:
    fmt = request.body.get("response_format")
    return str(fmt["type"]) if isinstance(fmt, dict) else "instructions"


def test_refused_formats_step_down_to_instructions_once(server: LoopbackServer) -> None:
    server.respond_with(_refuses_response_format)
    with _client(server) as client:
        first = client.complete(MESSAGES, json_schema=SCHEMA)
        second = client.complete(MESSAGES, json_schema=SCHEMA)
    assert first.content == second.content == '{"ok": true}'
    # json_schema, then json_object, then the schema in words; the second call goes
    # straight to what worked: the refusals are remembered for this model.
    assert [_format_sent(r) for r in server.requests] == [
        "json_schema",
        "json_object",
        "instructions",
        "instructions",
    ]
    for request in server.requests[1:]:
        system = request.body["messages"][0]
        assert system["role"] == "system"
        assert system["content"].startswith("You grade exams.")
        assert "Reply with JSON only, matching this schema" in system["content"]
        assert json.dumps(SCHEMA["schema"], separators=(",", ":")) in system["content"]


_LLAMA_CPP_500 = (
    "Traceback (most recent call last):\n"
    '  File "/app/llama_cpp/server/app.py", line 412, in create_chat_completion\n'
    "    raise ValueError(...)\n"
    "ValueError: response_format type 'json_schema' is not supported"
)


@pytest.mark.parametrize(
    "refusal",
    [
        Reply(400, {"error": {"message": "'json_schema' is not supported with this model"}}),
        Reply(422, {"detail": [{"loc": ["body", "response_format", "type"], "msg": "bad"}]}),
        Reply(500, {"error": {"message": _LLAMA_CPP_500, "type": "internal_server_error"}}),
    ],
    ids=["400", "422", "500"],
)
def test_json_object_is_used_where_only_json_schema_is_refused(
    server: LoopbackServer, refusal: Reply
) -> None:
    def only_json_object(request: Recorded) -> Reply:
        return refusal if _format_sent(request) == "json_schema" else Reply(body=completion("{}"))

    server.respond_with(only_json_object)
    with _client(server) as client:
        client.complete(MESSAGES, json_schema=SCHEMA)
        client.complete(MESSAGES, json_schema=SCHEMA)
        client.complete(MESSAGES, json_schema=SCHEMA, model="other-model")
    assert [_format_sent(r) for r in server.requests] == [
        "json_schema",
        "json_object",
        "json_object",
        "json_schema",  # another model of the endpoint is asked afresh
        "json_object",
    ]


def test_a_5xx_that_names_no_format_is_a_server_error_not_a_refusal(
    server: LoopbackServer,
) -> None:
    server.script(Reply(503, {"error": {"message": "overloaded"}}))
    with _client(server) as client, pytest.raises(ServerError):
        client.complete(MESSAGES, json_schema=SCHEMA)
    assert [_format_sent(r) for r in server.requests] == ["json_schema"]


def test_fallback_adds_a_system_message_when_there_is_none(server: LoopbackServer) -> None:
    server.respond_with(_refuses_response_format)
    with _client(server) as client:
        client.complete([{"role": "user", "content": "hi"}], json_schema=SCHEMA)
    messages = server.requests[-1].body["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]


def test_one_connection_is_kept_alive_across_calls(server: LoopbackServer) -> None:
    with _client(server) as client:
        for _ in range(5):
            client.complete(MESSAGES)
    assert len({r.client_port for r in server.requests}) == 1


def test_is_safe_to_share_between_threads(server: LoopbackServer) -> None:
    with _client(server, max_connections=4) as client, ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: client.complete(MESSAGES), range(40)))
    assert all(reply.content == "hello" for reply in replies)
    assert len(server.requests) == 40
    assert len({r.client_port for r in server.requests}) <= 4


def test_key_never_appears_in_repr_or_describe(server: LoopbackServer) -> None:
    client = _client(server, reason="AITA_BASE_URL is set")
    assert KEY not in repr(client)
    assert "api_key=set" in repr(client)
    assert KEY not in client.describe()
    assert client.describe() == (
        f"OpenAI-compatible endpoint (text-model) at {server.url} — AITA_BASE_URL is set"
    )
    client.close()
    client.close()  # twice is fine


def test_key_pasted_with_spaces_or_a_newline_is_trimmed(server: LoopbackServer) -> None:
    with OpenAICompatibleClient(server.url, SecretStr(f" {KEY}\n"), model="m") as client:
        assert client.complete(MESSAGES).content == "hello"
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    with OpenAICompatibleClient(server.url, SecretStr(" \n"), model="m") as client:
        assert "api_key=none" in repr(client)


def test_describe_openrouter_names_both_models() -> None:
    client = OpenAICompatibleClient(
        "https://openrouter.ai/api/v1",
        SecretStr(KEY),
        model="a/text",
        vision_model="b/eye",
        provider_name="openrouter",
        reason="OPENROUTER_API_KEY is set",
    )
    assert client.describe() == "OpenRouter (a/text, vision b/eye) — OPENROUTER_API_KEY is set"
    client.close()


def test_password_in_base_url_is_not_shown() -> None:
    client = OpenAICompatibleClient("http://user:hunter2@127.0.0.1:9/v1", None, model="m")
    assert "hunter2" not in client.describe()
    assert "hunter2" not in repr(client)
    client.close()


@pytest.mark.parametrize("url", ["localhost:11434/v1", "ftp://example.org", "http://[::1"])
def test_bad_base_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="AITA_BASE_URL"):
        OpenAICompatibleClient(url, None, model="m")


def test_content_given_as_parts_is_joined() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        parts = [{"type": "text", "text": "two "}, {"type": "text", "text": "parts"}]
        body = completion()
        body["choices"][0]["message"]["content"] = parts
        return httpx.Response(200, json=body)

    transport = httpx.MockTransport(handler)
    with OpenAICompatibleClient("http://x.test/v1", None, model="m", transport=transport) as c:
        assert c.complete(MESSAGES).content == "two parts"


def test_a_page_is_rendered_once_however_many_formats_are_tried(server: LoopbackServer) -> None:
    renders: list[int] = []

    def render() -> EncodedImage:
        renders.append(1)
        return EncodedImage("image/png", b"\x89PNG fake")

    server.respond_with(_refuses_response_format)
    page = LLMMessage.user("read this", [LazyImage(render, identity="p1")])
    with _client(server) as client:
        client.complete([page], json_schema=SCHEMA)
    assert len(server.requests) == 3  # json_schema, json_object, instructions
    assert len(renders) == 1


def test_openai_dicts_from_user_code_are_sent_exactly_as_given(server: LoopbackServer) -> None:
    given: list[dict[str, Any]] = [
        {"role": "system", "content": "You grade exams.", "name": "grader"},
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": "https://example.org/p.png"}},
                {"type": "text", "text": "A"},
                {"type": "text", "text": "B"},
            ],
        },
    ]
    with _client(server) as client:
        client.complete(given)
    assert server.requests[0].body["messages"] == given


def test_a_400_about_another_parameter_is_not_a_format_refusal(server: LoopbackServer) -> None:
    message = "Unsupported parameter: 'max_tokens' is not supported with this model."
    server.script(Reply(400, {"error": {"message": message, "param": "max_tokens"}}))
    with _client(server) as client, pytest.raises(BadRequestError, match="max_tokens"):
        client.complete(MESSAGES, json_schema=SCHEMA, max_tokens=10)
    assert [_format_sent(r) for r in server.requests] == ["json_schema"]
