"""The CHUB_* settings are checked once, and refuse what cannot run."""

import pytest

from chub_ui.settings import PLACEHOLDER_SECRET, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Start every test from an environment without CHUB_* variables."""
    for name in [
        "CHUB_ENV",
        "CHUB_SECRET_KEY",
        "CHUB_DEMO",
        "CHUB_BASE_URL",
        "CHUB_SMTP_URL",
        "CHUB_IMPORT_MAX_BYTES",
        "CHUB_CORS_ORIGINS",
    ]:
        monkeypatch.delenv(name, raising=False)


def test_defaults_run_in_development():
    settings = load_settings()

    assert settings.env == "development"
    assert settings.base_url == "http://localhost:3000"
    assert settings.cors_origins == ["http://localhost:3000"]
    assert settings.document_max_bytes == 25 * 1024 * 1024
    assert settings.account_quota_bytes == 1024**3
    assert settings.database_url.endswith("/.data/chub.db")


@pytest.mark.parametrize("secret", [PLACEHOLDER_SECRET, "short-secret"])
def test_production_refuses_a_placeholder_or_short_secret(monkeypatch, secret):
    monkeypatch.setenv("CHUB_ENV", "production")
    monkeypatch.setenv("CHUB_SECRET_KEY", secret)

    with pytest.raises(SettingsError, match="CHUB_SECRET_KEY"):
        load_settings()


def test_production_refuses_demo_mode(monkeypatch):
    monkeypatch.setenv("CHUB_ENV", "production")
    monkeypatch.setenv("CHUB_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("CHUB_DEMO", "1")

    with pytest.raises(SettingsError, match="CHUB_DEMO"):
        load_settings()


def test_production_runs_with_a_real_secret(monkeypatch):
    monkeypatch.setenv("CHUB_ENV", "production")
    monkeypatch.setenv("CHUB_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("CHUB_BASE_URL", "https://partners.example.com/")

    settings = load_settings()

    assert settings.is_production
    assert settings.base_url == "https://partners.example.com"
    assert settings.cors_origins == ["https://partners.example.com"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CHUB_DEMO", "maybe", "CHUB_DEMO"),
        ("CHUB_IMPORT_MAX_BYTES", "-1", "greater than zero"),
        ("CHUB_IMPORT_MAX_BYTES", "lots", "whole number"),
        ("CHUB_BASE_URL", "localhost:3000", "CHUB_BASE_URL"),
        ("CHUB_SMTP_URL", "http://mail.example.com", "CHUB_SMTP_URL"),
        ("CHUB_ENV", "staging", "CHUB_ENV"),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(
    monkeypatch, name, value, message
):
    monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError, match=message):
        load_settings()


def test_empty_variables_count_as_unset(monkeypatch):
    monkeypatch.setenv("CHUB_ENV", "")
    monkeypatch.setenv("CHUB_BASE_URL", " ")

    settings = load_settings()

    assert settings.env == "development"
    assert settings.base_url == "http://localhost:3000"
