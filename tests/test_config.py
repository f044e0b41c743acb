"""Settings: defaults, environment, overrides and one-line errors naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from aita_cli.config import load_settings
from aita_cli.errors import ConfigError


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("AITA_MAX_WORKERS", "AITA_RATE_LIMIT_RPS", "AITA_MAX_COST", "AITA_PROVIDER"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_match_design() -> None:
    settings = load_settings()
    assert settings.max_workers == 5
    assert settings.rate_limit_rps == 10.0
    assert settings.enable_checkpointing is True
    assert settings.checkpoint_interval == 10
    assert settings.max_retries == 3
    assert settings.provider == "auto"
    assert settings.max_cost is None


def test_environment_and_dotenv_and_override(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("AITA_MAX_WORKERS=7\nAITA_RATE_LIMIT_RPS=0.2\n")
    assert load_settings().max_workers == 7
    monkeypatch.setenv("AITA_MAX_WORKERS", "9")
    settings = load_settings()
    assert settings.max_workers == 9
    assert settings.rate_limit_rps == 0.2
    assert load_settings(max_workers=2, rate_limit_rps=None).max_workers == 2


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AITA_MAX_WORKERS", "abc"),
        ("AITA_MAX_WORKERS", "0"),
        ("AITA_MAX_WORKERS", "-3"),
        ("AITA_RATE_LIMIT_RPS", "-1"),
        ("AITA_ENABLE_CHECKPOINTING", "maybe"),
        ("AITA_PROVIDER", "azure"),
        ("AITA_MAX_COST", "0"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"{variable} must be ")
    assert "\n" not in message


def test_api_key_is_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-secret-value")
    settings = load_settings()
    assert "sk-or-secret-value" not in repr(settings)
    assert settings.openrouter_api_key is not None
    assert settings.openrouter_api_key.get_secret_value() == "sk-or-secret-value"


def test_a_bad_flag_value_names_the_flag_not_the_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(provider="bogus")
    assert str(caught.value).startswith("--provider must be one of auto, openrouter")


def test_a_good_flag_beats_a_bad_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AITA_PROVIDER", "azure")
    assert load_settings(provider="offline").provider == "offline"


def test_an_unreadable_dotenv_is_a_config_error_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"AITA_MAX_WORKERS=3\nNOTE=caf\xe9\n")  # Latin-1, not UTF-8
    with pytest.raises(ConfigError, match=r"^\.env: cannot read it \(not UTF-8 text\)$"):
        load_settings()


def test_aita_debug_is_left_to_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI reads AITA_DEBUG itself, so any value of it never stops settings loading.
    monkeypatch.setenv("AITA_DEBUG", "2")
    assert load_settings().max_workers == 5
