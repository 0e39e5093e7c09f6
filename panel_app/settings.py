"""One settings object, read from ``PANEL_*`` environment variables.

Every variable has an embedded default so that ``make run`` works on a fresh
machine with no configuration: SQLite under ``data/``, the demo outbox, no Redis.

``PANEL_STAFF_REQUIRE_PASSKEY`` (``1``/``true``/``yes``; default off): the support console
accepts only passkeys and security keys at its gate (phishing-resistant staff). The app code
is then refused by the server; a staff member without a passkey enters the app code one last
time, which opens nothing but the "add a passkey" step (``security/staff.py``).
"""

from __future__ import annotations

import functools
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"

ENV_DEMO = "demo"
ENV_PRODUCTION = "production"


class SettingsError(RuntimeError):
    """A configuration problem, with a message that says what to do."""


def _int(environ, name: str, default: int, minimum: int = 1) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}.") from exc
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}.")
    return value


def _flag(environ, name: str, default: bool) -> bool:
    raw = (environ.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be 1 or 0, got {raw!r}.")


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str
    redis_url: str | None
    secret_key_file: Path
    stepup_ttl_seconds: int
    session_idle_seconds: int
    session_absolute_seconds: int
    public_url: str
    frontend_url: str
    smtp_url: str | None
    mail_from: str
    whatsapp_token: str | None
    whatsapp_phone_number_id: str | None
    whatsapp_api_base: str
    whatsapp_verify_token: str | None
    whatsapp_app_secret: str | None
    whatsapp_template: str
    whatsapp_notice_template: str
    factor_change_delay_seconds: int
    support_email: str
    staff_idle_seconds: int = 15 * 60
    staff_require_passkey: bool = False
    log_events: bool = False
    trusted_proxies: str = ""
    dns_zone_cache_records: int = 20_000  # records of parsed zones a worker keeps (0: none)
    # Without Redis: seconds without an event after which a tab's states are packed into
    # bytes in memory (0: never; state/tab_store.py).
    idle_tab_pack_seconds: int = 30
    # ... and at most this many tabs' states live at once (0: no bound): beyond it, tabs idle
    # at least 5 s are packed sooner (many tabs connecting at once, e.g. after a restart).
    live_tab_states_max: int = 1000
    # With Redis: seconds a worker keeps a tab's lock and states after the tab's last event
    # (its socket on that worker), so that its next events need no Redis (0: never; written
    # once a second; state/redis_states.py).
    state_hold_seconds: int = 30
    # ... at most this many tabs at once per worker (their states live in its memory; more
    # tabs take the two round trips).
    state_held_tabs_max: int = 1000
    # Threads that run events' database work off the event loop (tasks.off_loop; 0: on the
    # loop). Default 4 for a database on another host, 0 for SQLite or a server on this
    # machine, where a round trip is shorter than what a thread costs (bench/results.md).
    # The connection pools are sized for them (db.py).
    database_threads: int = 0

    @property
    def is_demo(self) -> bool:
        return self.env == ENV_DEMO

    @property
    def cookie_secure(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def email_transport(self) -> str:
        """``smtp`` when an SMTP server is configured, else the demo ``outbox``."""
        return "smtp" if self.smtp_url else "outbox"

    @property
    def whatsapp_transport(self) -> str:
        return "cloud" if (self.whatsapp_token and self.whatsapp_phone_number_id) else "outbox"


MAX_DATABASE_THREADS = 16


_LOCAL_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1"})


def _database_on_another_host(database_url: str) -> bool:
    """A database server reached over the network (not SQLite, not this machine's server by
    loopback or socket): each of its round trips costs the event loop a wait worth avoiding."""
    if database_url.startswith("sqlite"):
        return False
    from sqlalchemy.engine import make_url

    try:
        url = make_url(database_url)
    except Exception:  # noqa: BLE001 - an unreadable URL fails where the engine is made
        return False
    return (url.host or "").strip("[]").lower() not in _LOCAL_HOSTS and "host" not in url.query


def _database_threads(environ, database_url: str) -> int:
    threads = _int(environ, "PANEL_DATABASE_THREADS", 4 if _database_on_another_host(database_url) else 0,
                   minimum=0)
    if threads > MAX_DATABASE_THREADS:
        raise SettingsError(f"PANEL_DATABASE_THREADS must be at most {MAX_DATABASE_THREADS}, got {threads}.")
    return threads


def load_settings(environ: os._Environ | dict | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    env = environ.get("PANEL_ENV", ENV_DEMO).strip().lower() or ENV_DEMO
    if env not in (ENV_DEMO, ENV_PRODUCTION):
        raise SettingsError(f"PANEL_ENV must be 'demo' or 'production', got {env!r}.")
    database_url = environ.get("PANEL_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'panel.db'}"
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    return Settings(
        env=env,
        database_url=database_url,
        redis_url=environ.get("PANEL_REDIS_URL") or None,
        secret_key_file=Path(environ.get("PANEL_SECRET_KEY_FILE") or DATA_DIR / "secret.key"),
        stepup_ttl_seconds=_int(environ, "PANEL_STEPUP_TTL_SECONDS", 600),
        session_idle_seconds=_int(environ, "PANEL_SESSION_IDLE_SECONDS", 30 * 60),
        session_absolute_seconds=_int(environ, "PANEL_SESSION_ABSOLUTE_SECONDS", 12 * 3600),
        public_url=(environ.get("PANEL_PUBLIC_URL") or "http://localhost:3000").rstrip("/"),
        frontend_url=(environ.get("PANEL_FRONTEND_URL") or "").rstrip("/"),
        smtp_url=environ.get("PANEL_SMTP_URL") or None,
        mail_from=environ.get("PANEL_MAIL_FROM") or "Panel <no-reply@panel.example>",
        whatsapp_token=environ.get("PANEL_WHATSAPP_TOKEN") or None,
        whatsapp_phone_number_id=environ.get("PANEL_WHATSAPP_PHONE_NUMBER_ID") or None,
        whatsapp_api_base=(environ.get("PANEL_WHATSAPP_API_BASE") or "https://graph.facebook.com/v21.0").rstrip("/"),
        whatsapp_verify_token=environ.get("PANEL_WHATSAPP_VERIFY_TOKEN") or None,
        whatsapp_app_secret=environ.get("PANEL_WHATSAPP_APP_SECRET") or None,
        whatsapp_template=environ.get("PANEL_WHATSAPP_TEMPLATE") or "panel_verification_code",
        whatsapp_notice_template=environ.get("PANEL_WHATSAPP_NOTICE_TEMPLATE") or "panel_security_notice",
        factor_change_delay_seconds=_int(environ, "PANEL_FACTOR_CHANGE_DELAY_SECONDS", 72 * 3600),
        support_email=environ.get("PANEL_SUPPORT_EMAIL") or "support@panel.example",
        staff_idle_seconds=_int(environ, "PANEL_STAFF_IDLE_SECONDS", 15 * 60),
        staff_require_passkey=_flag(environ, "PANEL_STAFF_REQUIRE_PASSKEY", False),
        trusted_proxies=(environ.get("PANEL_TRUSTED_PROXIES") or "").strip(),
        dns_zone_cache_records=_int(environ, "PANEL_DNS_ZONE_CACHE_RECORDS", 20_000, minimum=0),
        idle_tab_pack_seconds=_int(environ, "PANEL_IDLE_TAB_PACK_SECONDS", 30, minimum=0),
        live_tab_states_max=_int(environ, "PANEL_LIVE_TAB_STATES_MAX", 1000, minimum=0),
        state_hold_seconds=_int(environ, "PANEL_STATE_HOLD_SECONDS", 30, minimum=0),
        state_held_tabs_max=_int(environ, "PANEL_STATE_HELD_TABS_MAX", 1000, minimum=0),
        database_threads=_database_threads(environ, database_url),
        log_events=(environ.get("PANEL_LOG_EVENTS") or ("0" if env == ENV_DEMO else "1")).strip() in ("1", "true", "yes"),
    )


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def load_secret_key(settings: Settings) -> bytes:
    """Return the 32-byte master key; create it (mode 0600) in demo mode only.

    Production refuses to invent a key: a key made silently on a new machine
    would make every stored secret unreadable after a redeploy.
    """
    path = settings.secret_key_file
    if not path.exists():
        if not settings.is_demo:
            raise SettingsError(
                f"No secret key at {path}. Create one with "
                "`python -m panel_app.cli create-secret-key` (or set PANEL_SECRET_KEY_FILE "
                "to an existing key file) and keep it safe: it encrypts stored secrets."
            )
        create_secret_key(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SettingsError(f"Secret key file {path} must not be readable by others (chmod 600 {path}).")
    key = bytes.fromhex(path.read_text().strip())
    if len(key) < 32:
        raise SettingsError(f"Secret key file {path} is too short; create a new one.")
    return key


def create_secret_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
