"""Provider selection: every branch of auto/openrouter/openai/offline, from real settings."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from aita_cli.config import load_settings
from aita_cli.errors import ConfigError, LLMTimeoutError
from aita_cli.llm.base import LLMClient
from aita_cli.llm.factory import choose_provider, create_client, create_openrouter_client
from aita_cli.llm.messages import LLMMessage
from aita_cli.llm.offline import OfflineLLMClient
from aita_cli.llm.openai_client import OpenAICompatibleClient
from aita_cli.simulate.server import SimulatorConfig, start_simulator
from tests.llm.openai_loopback import LoopbackServer, Reply, completion, serve

KEY = "sk-or-test-SECRET-42"
_VARIABLES = (
    "OPENROUTER_API_KEY",
    "AITA_PROVIDER",
    "AITA_BASE_URL",
    "AITA_API_KEY",
    "AITA_MODEL",
    "AITA_VISION_MODEL",
    "AITA_PRICES",
    "AITA_MAX_WORKERS",
    "AITA_REQUEST_TIMEOUT",
)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in _VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with serve() as running:
        yield running


def _created(**overrides: object) -> LLMClient:
    client = create_client(load_settings(**overrides))
    client.close()  # construction opens no connection; closing early is harmless
    return client


def test_auto_prefers_openrouter_when_its_key_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    monkeypatch.setenv("AITA_BASE_URL", "http://127.0.0.1:9/v1")
    client = _created()
    assert isinstance(client, OpenAICompatibleClient)
    assert client.provider_name == "openrouter"
    assert client.describe() == "OpenRouter (openai/gpt-4o-mini) — OPENROUTER_API_KEY is set"
    assert KEY not in repr(client)


def test_openrouter_models_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    monkeypatch.setenv("AITA_MODEL", "anthropic/claude-3.5-haiku")
    monkeypatch.setenv("AITA_VISION_MODEL", "google/gemini-2.0-flash-001")
    client = create_openrouter_client()
    assert (client.model, client.vision_model) == (
        "anthropic/claude-3.5-haiku",
        "google/gemini-2.0-flash-001",
    )
    client.close()


def test_auto_uses_base_url_when_no_openrouter_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AITA_BASE_URL", "http://127.0.0.1:11434/v1/")
    monkeypatch.setenv("AITA_MODEL", "llama3.1")
    client = _created()
    assert isinstance(client, OpenAICompatibleClient)
    assert client.vision_model == "llama3.1"
    assert client.describe() == (
        "OpenAI-compatible endpoint (llama3.1) at http://127.0.0.1:11434/v1 — AITA_BASE_URL is set"
    )


def test_custom_base_url_needs_a_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AITA_BASE_URL", "http://127.0.0.1:11434/v1")
    with pytest.raises(ConfigError, match="AITA_MODEL is required"):
        _created()
    assert isinstance(_created(model="qwen2.5"), OpenAICompatibleClient)  # or --model


@pytest.mark.parametrize("api_key", [None, "sk-openai"])
def test_auto_without_openrouter_or_base_url_is_offline(
    monkeypatch: pytest.MonkeyPatch, api_key: str | None
) -> None:
    if api_key:
        monkeypatch.setenv("AITA_API_KEY", api_key)
    client = _created()
    assert isinstance(client, OfflineLLMClient)
    assert choose_provider(load_settings())[0] == "offline"
    if api_key:  # a key on its own is likely meant for api.openai.com: say how
        assert "use --provider openai" in client.describe()
    else:
        assert "no provider configured" in client.describe()
    assert "sk-openai" not in client.describe()


def test_offline_is_used_when_asked_even_with_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    client = _created(provider="offline")
    assert isinstance(client, OfflineLLMClient)
    assert client.describe() == (
        "offline (templates and on-device OCR, no model) — --provider/AITA_PROVIDER is offline"
    )


def test_openrouter_without_key_says_what_to_set() -> None:
    with pytest.raises(ConfigError) as caught:
        _created(provider="openrouter")
    assert str(caught.value) == "No key found — set OPENROUTER_API_KEY or use --provider offline"
    with pytest.raises(ConfigError):
        create_openrouter_client()


def test_openai_with_only_a_key_means_api_openai_com(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AITA_API_KEY", "sk-openai-SECRET")
    client = _created(provider="openai")
    assert isinstance(client, OpenAICompatibleClient)
    assert client.provider_name == "openai"
    assert client.model == "gpt-4o-mini"
    assert client.describe().startswith("OpenAI (gpt-4o-mini) — ")
    assert "sk-openai-SECRET" not in client.describe() + repr(client)


def test_openai_without_url_or_key_says_what_to_set() -> None:
    with pytest.raises(ConfigError, match="needs AITA_BASE_URL"):
        _created(provider="openai")


def test_bad_base_url_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AITA_BASE_URL", "localhost:11434")
    with pytest.raises(ConfigError, match="AITA_BASE_URL"):
        _created(model="m")


def test_pool_is_sized_to_the_workers_and_prices_come_from_env(
    monkeypatch: pytest.MonkeyPatch, server: LoopbackServer
) -> None:
    usage = {"prompt_tokens": 1_000_000, "completion_tokens": 0}
    server.script(Reply(body=completion(usage=usage), delay=0.02))
    monkeypatch.setenv("AITA_BASE_URL", server.url)
    monkeypatch.setenv("AITA_PRICES", '{"local-model": [2.0, 8.0]}')
    client = create_client(load_settings(model="local-model", max_workers=2))
    messages = [LLMMessage.user("hi")]
    with ThreadPoolExecutor(6) as pool:
        replies = list(pool.map(lambda _: client.complete(messages), range(12)))
    client.close()
    assert len({r.client_port for r in server.requests}) <= 2
    assert all(reply.cost == pytest.approx(2.0) and reply.cost_is_estimate for reply in replies)


def test_request_timeout_comes_from_settings(
    monkeypatch: pytest.MonkeyPatch, server: LoopbackServer
) -> None:
    server.script(Reply(body=completion(), delay=0.5))
    monkeypatch.setenv("AITA_BASE_URL", server.url)
    monkeypatch.setenv("AITA_REQUEST_TIMEOUT", "0.05")
    client = create_client(load_settings(model="m"))
    with pytest.raises(LLMTimeoutError):
        client.complete([LLMMessage.user("hi")])
    client.close()


def test_without_a_model_the_endpoints_only_model_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with start_simulator(SimulatorConfig(model="qwen2.5-7b-instruct")) as sim:
        monkeypatch.setenv("AITA_BASE_URL", sim.url)
        client = _created()
        assert isinstance(client, OpenAICompatibleClient)
        assert client.model == client.vision_model == "qwen2.5-7b-instruct"
        assert client.describe().endswith(
            "AITA_MODEL is not set, and the endpoint serves only qwen2.5-7b-instruct"
        )
        client.close()


def test_without_a_model_an_endpoint_serving_several_lists_them(
    monkeypatch: pytest.MonkeyPatch, server: LoopbackServer
) -> None:
    models = [{"id": name, "object": "model"} for name in ("llama3.1", "qwen2.5", "phi4")]
    server.get_reply = Reply(body={"object": "list", "data": models})
    monkeypatch.setenv("AITA_BASE_URL", server.url)
    monkeypatch.setenv("AITA_API_KEY", KEY)
    with pytest.raises(ConfigError) as caught:
        _created()
    assert "serves 3 models (llama3.1, qwen2.5, phi4)" in str(caught.value)
    assert "set AITA_MODEL" in str(caught.value)
    [request] = server.requests
    assert request.path == "/v1/models"
    assert request.headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(
    "url", ["http://bob:s3cr/etPW@127.0.0.1:18555/v1", "http://bob:p@ss/w0rd@127.0.0.1:1/v1"]
)
def test_a_bad_base_url_is_reported_masked_before_any_model_discovery(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("AITA_BASE_URL", url)
    for model in (None, "m"):
        with pytest.raises(ConfigError) as caught:
            _created(model=model)
        assert "AITA_BASE_URL is not a valid URL" in str(caught.value)
        assert "s3cr" not in str(caught.value)
        assert "etPW" not in str(caught.value)
        assert "w0rd" not in str(caught.value)


def test_a_key_that_is_not_ascii_is_a_clear_error_during_discovery(
    monkeypatch: pytest.MonkeyPatch, server: LoopbackServer
) -> None:
    monkeypatch.setenv("AITA_BASE_URL", server.url)
    monkeypatch.setenv("AITA_API_KEY", "sk-\u201csecret")
    with pytest.raises(ConfigError, match="not plain ASCII") as caught:
        _created()
    assert "secret" not in str(caught.value)
