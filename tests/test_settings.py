import os
import stat

import pytest

from panel_app.settings import SettingsError, create_secret_key, load_secret_key, load_settings


def test_defaults_need_no_configuration():
    settings = load_settings({})
    assert settings.env == "demo"
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("data/panel.db")
    assert settings.redis_url is None
    assert settings.stepup_ttl_seconds == 600
    assert settings.email_transport == "outbox" and settings.whatsapp_transport == "outbox"


def test_environment_overrides_and_postgres_driver():
    settings = load_settings({"PANEL_ENV": "production", "PANEL_DATABASE_URL": "postgresql://u@h/db",
                              "PANEL_REDIS_URL": "redis://h:6379", "PANEL_STEPUP_TTL_SECONDS": "120"})
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.redis_url == "redis://h:6379"
    assert settings.stepup_ttl_seconds == 120
    assert not settings.is_demo


@pytest.mark.parametrize("env", [{"PANEL_ENV": "staging"}, {"PANEL_STEPUP_TTL_SECONDS": "ten"},
                                 {"PANEL_STEPUP_TTL_SECONDS": "0"}])
def test_bad_values_are_refused_with_a_message(env):
    with pytest.raises(SettingsError):
        load_settings(env)


def test_demo_creates_the_secret_key_with_mode_0600(tmp_path):
    path = tmp_path / "secret.key"
    settings = load_settings({"PANEL_SECRET_KEY_FILE": str(path)})
    key = load_secret_key(settings)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret_key(settings) == key


def test_production_refuses_to_invent_a_key(tmp_path):
    settings = load_settings({"PANEL_ENV": "production", "PANEL_SECRET_KEY_FILE": str(tmp_path / "none")})
    with pytest.raises(SettingsError, match="create-secret-key"):
        load_secret_key(settings)


def test_a_readable_key_file_is_refused(tmp_path):
    path = tmp_path / "secret.key"
    create_secret_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(SettingsError, match="chmod 600"):
        load_secret_key(load_settings({"PANEL_SECRET_KEY_FILE": str(path)}))
