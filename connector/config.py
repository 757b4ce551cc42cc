"""Loading and validating ``connector.toml``.

A bad file is answered with one line naming the file, the key and what was expected,
because the person reading it is usually setting the connector up for the first time.
Validation is pydantic's; this module only shapes its answer.

Every relative path in a config file (a SQLite database URL, the token key file) means a path
next to that file, wherever the command runs from: ``load_config`` makes them absolute. With no
config file they are relative to the current folder, as is a relative SQLite path given in
``CONNECTOR_DATABASE_URL`` (typed in the shell that runs the command).
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from connector.domain import CollectionMode, CollectionPolicy, PostPaymentAt, RetryPolicy

DEFAULT_CONFIG_NAME = "connector.toml"
DEFAULT_DATABASE_URL = "sqlite:///connector.sqlite"
ENV_DATABASE_URL = "CONNECTOR_DATABASE_URL"
ENV_CONFIG = "CONNECTOR_CONFIG"

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


#: What a person should write instead of a URL that is not one.
DATABASE_URL_EXAMPLES = "sqlite:///path/to/connector.sqlite or postgresql://user:password@host:5432/name"
SUPPORTED_DATABASES = ("sqlite", "postgresql", "postgres")


class ConfigError(Exception):
    """A configuration problem, already phrased as the one line the person needs."""


def _parse_url(url: str) -> URL | None:
    try:
        return make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return None


def database_url_problem(url: str) -> str | None:
    """Why ``url`` cannot name a database the connector can use, or None if it can."""
    parsed = _parse_url(url)
    if parsed is None:
        return f"not a database URL: expected {DATABASE_URL_EXAMPLES}"
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_DATABASES:
        return f"{backend} databases are not supported: use {DATABASE_URL_EXAMPLES}"
    return None


_PASSWORD_IN_TEXT = re.compile(r"(?P<user>[^\s:/@]*):(?P<password>[^\s@/]*)@")


def safe_url(url: str) -> str:
    """``url`` fit to print: any password replaced by ``***`` (also one given as a query parameter)."""
    parsed = _parse_url(url)
    if parsed is None:  # not parseable, but it may still hold a password: user:password@host
        return _PASSWORD_IN_TEXT.sub(lambda m: f"{m['user']}:***@", url)
    if any("password" in key.lower() for key in parsed.query):
        parsed = parsed.set(query={k: ("***" if "password" in k.lower() else v) for k, v in parsed.query.items()})
    return parsed.render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases, in-memory ones and ``file:`` URIs)."""
    parsed = _parse_url(url)
    if parsed is None or parsed.get_backend_name() != "sqlite":
        return None
    name = parsed.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name).expanduser()


def resolve_database_url(url: str, base: Path) -> str:
    """A SQLite URL with a relative (or ``~``) path made absolute against ``base``; others as given."""
    path = sqlite_path(url)
    if path is None:
        return url
    target = str(path if path.is_absolute() else base / path)
    parsed = make_url(url)
    return url if target == parsed.database else parsed.set(database=target).render_as_string(hide_password=False)


def resolve_path(value: str, base: Path) -> str:
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else base / path)


def parse_duration(value: object) -> timedelta:
    """``"90s"``, ``"15m"``, ``"2h"``, ``"3d"`` → timedelta; anything else is an error that says so."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str) and (m := _DURATION.match(value)):
        return timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    raise ValueError(f'expected a duration such as "30s", "15m", "2h" or "3d", got {value!r}')


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class RetryConfig(_Strict):
    """How a failed direct debit is retried."""

    max_attempts: int = Field(default=3, ge=1, le=10)
    intervals: list[Duration] = Field(default_factory=lambda: [timedelta(days=d) for d in (3, 5, 7)], min_length=1)

    @field_validator("intervals")
    @classmethod
    def _whole_days(cls, value: list[timedelta]) -> list[timedelta]:
        if any(i < timedelta(days=1) or i % timedelta(days=1) for i in value):
            raise ValueError('retry intervals are whole days, such as "3d"')
        return value

    def policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=self.max_attempts, intervals=tuple(self.intervals))


class Accounts(_Strict):
    """The ledger accounts chosen at setup, by code (Xero) or id (QuickBooks)."""

    clearing: str = Field(min_length=1, description="where platform payments are received")
    bank: str = Field(min_length=1, description="where payouts land")
    fees: str = Field(min_length=1, description="expense account for the platform's fees")

    @model_validator(mode="after")
    def _clearing_is_not_bank(self) -> Accounts:
        if self.clearing == self.bank:
            raise ValueError("the clearing account must differ from the bank account payouts land in")
        return self


class Schedule(_Strict):
    """How often the daemon runs each job for a connection."""

    import_every: Duration = timedelta(minutes=15)
    push_every: Duration = timedelta(minutes=1)
    reconcile_every: Duration = timedelta(hours=24)


class ConnectionConfig(_Strict):
    """One ledger organisation (a Xero tenant or a QuickBooks realm)."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    provider: Literal["xero", "quickbooks"]
    tenant_id: str | None = Field(default=None, description="Xero tenant id or QuickBooks realm id")
    accounts: Accounts
    collection_mode: CollectionMode = CollectionMode.AUTO_COLLECT
    post_payment_at: PostPaymentAt = PostPaymentAt.PAID
    lead_days: int = Field(default=3, ge=0, le=60)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    schedule: Schedule = Field(default_factory=Schedule)
    enabled: bool = True
    #: An imported amount above this is absurd (a typo, a broken export): quarantined, never collected.
    max_amount: Decimal = Field(default=Decimal(10**12), gt=0, le=Decimal(10**13))
    #: Leave a short note on the ledger's invoice (Xero: History and notes; QuickBooks: the private
    #: note, appended) when the connector starts a collection, confirms a payment or posts a payout.
    ledger_notes: bool = True
    #: The customer notices this connection sends (any of: status_changed, request_sent,
    #: collection_failed, payment_confirmed); support notices are set in [notifications].
    customer_notices: list[Literal["status_changed", "request_sent", "collection_failed", "payment_confirmed"]] = (
        Field(default_factory=lambda: ["status_changed", "request_sent", "collection_failed", "payment_confirmed"])
    )

    def policy(self) -> CollectionPolicy:
        return CollectionPolicy(
            retry=self.retry.policy(), post_payment_at=self.post_payment_at, lead_days=self.lead_days
        )


class LedgerApp(_Strict):
    """An OAuth app registered with a ledger; secrets come from the environment, not the file."""

    client_id: str = ""
    client_secret_env: str = Field(default="", description="name of the variable holding the client secret")
    redirect_uri: str = "http://127.0.0.1:8080/oauth/callback"
    #: Overridden to point at the sandbox; empty means the provider's real endpoints.
    api_url: str = ""
    identity_url: str = ""
    token_url: str = ""
    authorize_url: str = ""
    #: Scopes asked at consent; empty means the least the connector needs (see connector/ledgers/scopes.py).
    scopes: list[str] = Field(default_factory=list)

    def client_secret(self) -> str:
        return os.environ.get(self.client_secret_env, "") if self.client_secret_env else ""


class Ledgers(_Strict):
    xero: LedgerApp = Field(default_factory=LedgerApp)
    quickbooks: LedgerApp = Field(default_factory=LedgerApp)


class DatabaseConfig(_Strict):
    url: str = DEFAULT_DATABASE_URL

    @field_validator("url")
    @classmethod
    def _a_database_url(cls, value: str) -> str:
        problem = database_url_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class SecurityConfig(_Strict):
    """Where the key that encrypts OAuth tokens at rest comes from."""

    key_env: str = "CONNECTOR_SECRET_KEY"
    key_file: str = ".connector-key"


class WebConfig(_Strict):
    """Where ``connector web`` listens, and the https address people reach it by when not on loopback."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    #: The address people and ledgers use, e.g. "https://connector.example.com" behind a TLS proxy.
    #: Required (and https) to listen beyond loopback: session cookies and OAuth need TLS.
    public_url: str = ""

    @field_validator("public_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError('expected an absolute URL such as "https://connector.example.com"')
        return value.rstrip("/")

    @property
    def behind_https(self) -> bool:
        return self.public_url.startswith("https://")


def _env(name: str) -> str:
    return os.environ.get(name, "") if name else ""


class PlatformAccount(_Strict):
    """A payments-platform account allowed to call the events API, with its shared secret."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    #: Name of the environment variable holding the signing secret (never the secret itself).
    secret_env: str = Field(min_length=1)

    def secret(self) -> str:
        return _env(self.secret_env)


class ApiConfig(_Strict):
    """The platform events API (``/api/v1``): who may call it, and how old a signature may be."""

    accounts: list[PlatformAccount] = Field(default_factory=list)
    #: A signed request older (or newer) than this is refused: a captured request cannot be replayed later.
    replay_window: Duration = timedelta(minutes=5)


class WebhooksConfig(_Strict):
    """Ledger webhooks: the keys their signatures are checked with, and the debounce interval."""

    #: Variable holding the Xero app's webhook signing key (developer.xero.com → Webhooks).
    xero_key_env: str = "XERO_WEBHOOK_KEY"
    #: Variable holding the Intuit app's webhook verifier token.
    quickbooks_verifier_env: str = "QBO_WEBHOOK_VERIFIER"
    #: Hints for one connection within this interval make one sync.
    debounce: Duration = timedelta(seconds=30)

    def xero_key(self) -> str:
        return _env(self.xero_key_env)

    def quickbooks_verifier(self) -> str:
        return _env(self.quickbooks_verifier_env)


class SmtpConfig(_Strict):
    """Where notices are sent from. With no host, notices are stored and shown, never mailed."""

    host: str = ""
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    username_env: str = "CONNECTOR_SMTP_USER"
    password_env: str = "CONNECTOR_SMTP_PASSWORD"
    sender: str = "Connector <connector@localhost>"
    timeout: Duration = timedelta(seconds=20)
    #: A CA bundle to trust for STARTTLS besides the system's (a relay with a private CA).
    ca_file: str = ""

    def username(self) -> str:
        return _env(self.username_env)

    def password(self) -> str:
        return _env(self.password_env)


class NotificationsConfig(_Strict):
    """Who hears what: support's addresses, and the kinds switched on for every connection."""

    #: Support staff's addresses for digests (conflicts, quarantine, reconnect, mismatches, ...).
    support: list[str] = Field(default_factory=list)
    #: Digests of one kind for one connection go out at most this often.
    digest_every: Duration = timedelta(hours=1)


class EngineConfig(_Strict):
    """What runs the jobs: the embedded daemon (one machine) or Celery workers (many)."""

    kind: Literal["embedded", "celery"] = "embedded"
    #: The Celery broker, e.g. "amqp://guest:guest@127.0.0.1:5672//" (RabbitMQ).
    broker_url: str = ""
    #: Redis for the limits shared by every worker, e.g. "redis://127.0.0.1:6379/0".
    redis_url: str = ""
    #: Connections the embedded daemon syncs at once (each still one at a time).
    concurrency: int = Field(default=4, ge=1, le=64)
    #: A task running longer than this is stopped (its page or batch boundary is kept).
    task_time_limit: Duration = timedelta(minutes=30)

    @model_validator(mode="after")
    def _celery_needs_urls(self) -> EngineConfig:
        if self.kind == "celery":
            if not self.broker_url.startswith(("amqp://", "amqps://", "pyamqp://", "redis://", "rediss://")):
                raise ValueError('kind = "celery" needs broker_url, e.g. "amqp://guest:guest@127.0.0.1:5672//"')
            if not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
                raise ValueError('kind = "celery" needs redis_url for the shared limits, e.g. "redis://127.0.0.1:6379/0"')
        return self


class LoggingConfig(_Strict):
    """How the long-running processes log: plain lines for people, or JSON lines for collectors."""

    format: Literal["text", "json"] = "text"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Config(_Strict):
    """The whole file. Every section is optional; an empty file is a valid SQLite-only setup."""

    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    security: SecurityConfig = Field(default_factory=SecurityConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    webhooks: WebhooksConfig = Field(default_factory=WebhooksConfig)
    smtp: SmtpConfig = Field(default_factory=SmtpConfig)
    notifications: NotificationsConfig = Field(default_factory=NotificationsConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    ledgers: Ledgers = Field(default_factory=Ledgers)
    connections: list[ConnectionConfig] = Field(default_factory=list)
    source: str = Field(default="(defaults)", exclude=True)

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        names = [c.name for c in self.connections]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"connection names must be unique; repeated: {', '.join(dupes)}")
        return self

    @property
    def database_url(self) -> str:
        """``CONNECTOR_DATABASE_URL`` wins over the file, so tests and CI can point anywhere.

        A relative SQLite path in the variable is taken from the current folder; the file's own
        was made absolute against the file's folder when it was loaded.
        """
        env = os.environ.get(ENV_DATABASE_URL)
        return resolve_database_url(env, Path.cwd()) if env else self.database.url

    @property
    def database_origin(self) -> str:
        """Where :attr:`database_url` came from, for a message that tells the person what to change."""
        if os.environ.get(ENV_DATABASE_URL):
            return ENV_DATABASE_URL
        if self.source != "(defaults)":
            return f"[database] url in {self.source}"
        return "the default (no config file)"

    def with_paths_from(self, base: Path) -> Config:
        """This config with every relative path in it (SQLite URL, key file) made absolute against ``base``."""
        return self.model_copy(
            update={
                "database": self.database.model_copy(update={"url": resolve_database_url(self.database.url, base)}),
                "security": self.security.model_copy(update={"key_file": resolve_path(self.security.key_file, base)}),
            }
        )

    def connection(self, name: str) -> ConnectionConfig:
        for c in self.connections:
            if c.name == name:
                return c
        raise ConfigError(f"{self.source}: no connection named {name!r} (have: {self._names()})")

    def _names(self) -> str:
        return ", ".join(c.name for c in self.connections) or "none"


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _describe(error: dict) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    msg = error["msg"]
    return msg.removeprefix("Value error, ")


def load_config(path: Path | str | None = None) -> Config:
    """Load ``path``, or ``$CONNECTOR_CONFIG``, or ``./connector.toml``; with none, the defaults."""
    if path is None:
        env = os.environ.get(ENV_CONFIG)
        path = Path(env) if env else Path(DEFAULT_CONFIG_NAME)
        if not env and not path.exists():
            return Config().with_paths_from(Path.cwd())
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = len(exc.errors()) - 1
        extra = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise ConfigError(f"{path}: {_key_path(first['loc'])}: {_describe(first)}{extra}") from None
    return config.with_paths_from(Path(os.path.abspath(path)).parent).model_copy(update={"source": str(path)})
