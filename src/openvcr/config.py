"""The one Settings object: the only place that reads the environment.

Every setting has the prefix ``OPENVCR_`` (``OPENVCR_DATABASE_URL``, ``OPENVCR_SRC_MODE`` …). Secrets are
``SecretStr``. Insecure development defaults are refused when ``OPENVCR_ENVIRONMENT=production``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_MASTER_KEY = "openvcr-development-master-key-do-not-use-in-production"


class Settings(BaseSettings):
    """Runtime configuration of one OpenVCR process."""

    model_config = SettingsConfigDict(env_prefix="OPENVCR_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///./openvcr.db"

    # HTTP
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    public_url: str = "http://127.0.0.1:8000"
    log_level: str = "info"
    # The interpreter's thread switch interval in a served worker (milliseconds; Python's default is 5). The
    # group writer gives the GIL up around every SQL statement while it holds the database's write lock; a
    # shorter interval gets it back sooner when request threads are computing.
    switch_interval_ms: float = Field(default=0.5, ge=0.05, le=50.0)
    # The largest request body the API port takes (bytes); a larger one is a 413 before anything is parsed.
    # The V-SDC port has its own cap (``openvcr.vsdc.schemas.MAX_BODY_BYTES``).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)

    # API keys
    rate_limit_per_second: float = 200.0
    rate_limit_burst: int = 400
    key_rotation_overlap_seconds: int = 86_400
    # Each worker keeps a key it has looked up (and the key's register) this long before reading it again:
    # the revocation delay. A revoked or rotated-out key stops working in every worker within it. 0: no cache.
    key_cache_seconds: float = Field(default=2.0, ge=0.0, le=60.0)
    # Idempotency-Keys are replayable this long (the contract: 30 days), then released.
    idempotency_retention_days: float = 30.0

    # Background maintenance: finishing documents left pending (crash, lost answer), purging old keys.
    maintenance_interval_seconds: float = 30.0
    recovery_min_age_seconds: float = 300.0

    # The CBA rate feed (sales.cba): the CBA's exchange-rate web service; unset: off, except in production
    # (the CBA's public address); "off": off everywhere. Fetched at start and every cba_fetch_hours on
    # business days. A foreign-currency sale refuses a rate more business days old than rates_max_age_days
    # (0: no limit).
    cba_url: str | None = None
    cba_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    cba_fetch_hours: float = Field(default=4.0, ge=0.05, le=24)
    rates_max_age_days: int = Field(default=2, ge=0, le=365)

    # Encryption of register signing keys at rest.
    master_key: SecretStr = SecretStr(DEV_MASTER_KEY)

    # Tax authority (SRC e-HDM)
    src_mode: Literal["sandbox", "remote"] = "sandbox"
    src_url: str = "https://ecrm.taxservice.am/taxsystem-rs-vcr"
    src_cert: Path | None = None
    src_key: Path | None = None
    src_key_passphrase: SecretStr | None = None
    src_p12: Path | None = None
    src_p12_passphrase: SecretStr | None = None
    src_ca: Path | None = None
    src_timeout_seconds: float = 15.0
    src_connect_timeout_seconds: float = 5.0
    src_language: Literal["hy", "en", "ru"] = "hy"
    src_seq_policy: Literal["increasing", "strict"] = "increasing"
    sandbox_state_dir: Path | None = None

    # --- V-SDC (openvcr.vsdc) ---
    vsdc_port: int | None = None  # the mutual-TLS listener's port (openvcr serve --vsdc-port); None: off
    vsdc_host: str | None = None  # default: ``host``
    vsdc_context: str = ""  # path prefix before /merchant/invoice
    vsdc_server_names: list[str] = []  # extra DNS names / IPs of the listener's server certificate
    vsdc_trusted_proxies: list[str] = []  # addresses allowed to forward a client certificate in a header
    vsdc_client_cert_header: str = "X-SSL-Client-Cert"  # URL-encoded PEM, as nginx's $ssl_client_escaped_cert
    vsdc_timezone: str = "Asia/Yerevan"  # the zone of signingDate
    atax_url: str | None = None  # the aTAX receiver; None: the in-process sandbox under atax_state_dir
    atax_state_dir: Path | None = None
    atax_timeout_seconds: float = 10.0
    # --- end V-SDC ---

    # --- Merchant console (openvcr.console) ---
    console_session_hours: float = Field(default=12.0, gt=0, le=24 * 30)  # a session ends this long after sign-in
    console_link_minutes: int = Field(default=24 * 60, ge=1, le=7 * 24 * 60)  # a one-time login link's life
    console_login_attempts: int = Field(default=5, ge=1, le=1000)  # failed sign-ins per e-mail and address …
    console_login_window_seconds: int = Field(default=900, ge=1)  # … within this window, then refused
    console_owner_email: str = "owner@example.com"  # the first owner ``serve`` creates on an empty database
    # Cookies carry ``Secure`` when this is true; unset: when ``public_url`` is https.
    console_secure_cookies: bool | None = None
    # --- end merchant console ---

    # --- Receipt e-mail (openvcr.receipts.delivery) ---
    # smtp://user:pass@host:587 (STARTTLS, required), smtps://user:pass@host:465 (implicit TLS),
    # smtp://host:25?starttls=off (a local relay without TLS, no credentials). None: receipt e-mails are held.
    smtp_url: SecretStr | None = None
    mail_from: str | None = None  # the From address, e.g. "Shop <receipts@shop.am>"; needed with smtp_url
    mail_reply_to: str | None = None
    smtp_timeout_seconds: float = Field(default=20.0, gt=0, le=120)  # each SMTP command
    smtp_ca_file: Path | None = None  # a CA to trust for the SMTP server's certificate (default: the system's)
    mail_retry_base_seconds: float = Field(default=5.0, gt=0)  # backoff base × 2^(attempt−1) …
    mail_retry_max_seconds: float = Field(default=900.0, gt=0)  # … at most this
    # --- end receipt e-mail ---

    # --- Webhooks (openvcr.webhooks) ---
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)  # one delivery: connect, send, answer
    webhook_retry_base_seconds: float = Field(default=30.0, gt=0)  # backoff base × 2^(attempt−1) …
    webhook_retry_max_seconds: float = Field(default=3600.0, gt=0)  # … at most this
    webhook_retry_hours: float = Field(default=72.0, gt=0)  # a delivery failing after this long is failed
    # URLs naming a loopback, private or link-local address (or localhost); None: refused only in production
    webhook_private_urls: bool | None = None
    # --- end webhooks ---

    # --- Receipt SMS (openvcr.receipts.sms_delivery) ---
    # smpp://system_id:password@host:2775?source=OpenVCR (SMPP 3.4, plain TCP) or smpps://… (TLS).
    # None: receipt SMS are held (see docs/sms.md).
    smpp_url: SecretStr | None = None
    smpp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)  # connect, bind and each response
    smpp_enquire_link_seconds: float = Field(default=30.0, gt=0, le=3600)  # keep-alive when idle
    smpp_ca_file: Path | None = None  # a CA to trust for smpps:// (default: the system's)
    sms_per_second: float = Field(default=10.0, gt=0, le=10_000)  # the provider's throttling window
    sms_retry_base_seconds: float = Field(default=5.0, gt=0)  # backoff base × 2^(attempt−1) …
    sms_retry_max_seconds: float = Field(default=900.0, gt=0)  # … at most this
    # Instead of SMPP, a provider's HTTP API (openvcr.receipts.sms_http): one POST per SMS to this address.
    sms_http_url: SecretStr | None = None
    sms_http_token: SecretStr | None = None  # sent as Authorization: Bearer …
    sms_http_fields: str = "to=to,text=text,from=from,reference=reference"  # ours=theirs; left out: not sent
    sms_http_form: bool = False  # a form (application/x-www-form-urlencoded) instead of JSON
    sms_http_sender: str = "OpenVCR"  # the "from" field
    # --- end receipt SMS ---

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.environment == "production" and self.master_key.get_secret_value() == DEV_MASTER_KEY:
            raise ValueError("OPENVCR_MASTER_KEY must be set to a secret value in production")
        return self

    @model_validator(mode="after")
    def _mail_settings(self) -> Settings:
        if self.smtp_url is None:
            return self
        url = urlsplit(self.smtp_url.get_secret_value())
        if url.scheme not in ("smtp", "smtps") or not url.hostname:
            raise ValueError("OPENVCR_SMTP_URL must look like smtp://user:pass@host:587 or smtps://user:pass@host:465")
        if url.username and "starttls=off" in url.query.lower():
            raise ValueError("OPENVCR_SMTP_URL with starttls=off takes no credentials: they would be sent in clear")
        if not self.mail_from:
            raise ValueError("OPENVCR_MAIL_FROM must be set when OPENVCR_SMTP_URL is")
        try:
            url.port  # noqa: B018 - parses the port
        except ValueError as exc:
            raise ValueError(f"OPENVCR_SMTP_URL has an invalid port: {exc}") from exc
        return self

    @model_validator(mode="after")
    def _sms_settings(self) -> Settings:
        if self.sms_http_url is not None:
            if self.smpp_url is not None:
                raise ValueError("set one of OPENVCR_SMPP_URL or OPENVCR_SMS_HTTP_URL, not both")
            http = urlsplit(self.sms_http_url.get_secret_value())
            if http.scheme not in ("http", "https") or not http.hostname:
                raise ValueError("OPENVCR_SMS_HTTP_URL must be an http(s):// address")
            names = {item.partition("=")[0].strip() for item in self.sms_http_fields.split(",") if item.strip()}
            if not names <= {"to", "text", "from", "reference"} or not {"to", "text"} <= names:
                raise ValueError("OPENVCR_SMS_HTTP_FIELDS names to, text (required), from and reference: to=msisdn,…")
        if self.smpp_url is None:
            return self
        url = urlsplit(self.smpp_url.get_secret_value())
        if url.scheme not in ("smpp", "smpps") or not url.hostname or not url.username:
            raise ValueError("OPENVCR_SMPP_URL must look like smpp://system_id:password@host:2775?source=OpenVCR")
        try:
            url.port  # noqa: B018 - parses the port
        except ValueError as exc:
            raise ValueError(f"OPENVCR_SMPP_URL has an invalid port: {exc}") from exc
        return self

    def production_problems(self, *, vsdc: bool) -> list[str]:
        """Why this configuration must not serve in production (empty outside production, or when fine):
        a simulator standing in for the tax authority or aTAX, or a development secret. ``vsdc``: the V-SDC
        listener is to be served."""
        if self.environment != "production":
            return []
        problems = []
        if self.src_mode == "sandbox":
            problems.append(
                "OPENVCR_SRC_MODE is 'sandbox' (the SRC simulator): set OPENVCR_SRC_MODE=remote with the SRC's "
                "OPENVCR_SRC_URL and the register's certificate"
            )
        if vsdc and not self.atax_url:
            problems.append(
                "the V-SDC is enabled but OPENVCR_ATAX_URL is not set (invoices would go to the aTAX simulator)"
            )
        if self.master_key.get_secret_value() == DEV_MASTER_KEY:
            problems.append("OPENVCR_MASTER_KEY is the development value: set a secret of your own")
        return problems

    def beside_database(self, suffix: str) -> Path:
        """A path next to the SQLite database file (``openvcr.db`` → ``openvcr.db.<suffix>``), or under
        ``./openvcr-data/`` when the database is not a SQLite file."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            db_path = Path(self.database_url[len(prefix) :])
            return db_path.parent / (db_path.name + "." + suffix)
        return Path("./openvcr-data") / suffix

    def sandbox_state_path(self) -> Path:
        """Where the in-process SRC sandbox keeps its state (next to a SQLite database by default)."""
        return self.sandbox_state_dir if self.sandbox_state_dir is not None else self.beside_database("sandbox")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
