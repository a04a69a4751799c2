"""Settings read from the environment (prefix `DVR_`, plus `DATABASE_URL`)."""

import re
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, FilePath, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.api_keys import check_key_strength
from domain.config import Profile, ReliefThreshold
from domain.notifications import Channel

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}\Z")


class Settings(BaseSettings):
    # A refused setting may be a secret (the bootstrap key): errors never show the value.
    model_config = SettingsConfigDict(env_prefix="DVR_", extra="ignore", hide_input_in_errors=True)

    profile: Profile = "clinical"
    relief_threshold: ReliefThreshold = 0.8
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "DVR_DATABASE_URL")
    )
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    # The local stack's dev server keeps its history in a file in `data_dir`; in memory instead, for the
    # benchmarks' ceiling (bench/): nothing survives the stack.
    temporal_dev_server_in_memory: bool = False
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    bootstrap_api_key: str | None = None
    data_dir: Path = Path(".data")
    staff_email: str = "care-team@clinic.example"
    # The care team's urgent channel (red flags): the on-call phone, by SMS, or else an urgent mailbox; at
    # most one of them. Neither set: urgent messages go to `staff_email`, their subject and text starting
    # with URGENT (see `staff_urgent_target`).
    staff_urgent_phone: str | None = None
    staff_urgent_email: str | None = None
    log_level: str = "info"
    # `json` (one object a line, for a log pipeline) or `console` (for a person); unset, console at a
    # terminal and JSON otherwise (config/logging.py). `make run` asks for console.
    log_format: Literal["json", "console"] | None = None
    # Prometheus metrics are served on ports of their own at `metrics_host`, never on the API's port, which
    # patients and the SMS gateway reach (README, "Metrics, traces and logs"). A port unset (or empty): that
    # process serves none. `make run` sets both.
    metrics_host: str = "127.0.0.1"
    api_metrics_port: int | None = Field(default=None, gt=0, lt=65536)
    worker_metrics_port: int | None = Field(default=None, gt=0, lt=65536)
    # How often the API recounts the operations gauges (pathways by stage, attention, the outbox): a scrape
    # reads the last count, so however often Prometheus scrapes, Temporal and PostgreSQL see this rate.
    ops_metrics_interval_seconds: float = Field(default=30.0, ge=5)
    # Traces go out over OTLP/HTTP only when an endpoint is set, by the standard OpenTelemetry variables
    # (the exporter reads the others itself: headers, certificate, timeout); unset, nothing is traced.
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "otel_exporter_otlp_endpoint"),
    )
    otel_exporter_otlp_traces_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "otel_exporter_otlp_traces_endpoint"
        ),
    )
    update_timeout_seconds: float = 30.0
    # How long the SMS gateway's inbound webhook waits for Temporal to take a text's answer before it answers
    # 503 for the gateway to send it again (README, "Replies by text"): Twilio gives all attempts together
    # 15 s, so two of them fit.
    sms_inbound_wait_seconds: float = Field(default=6.0, gt=0, le=10)
    # Open pathways one worker keeps in memory (~150 KiB each, bench/memory.py). A pathway waits days between
    # its workflow tasks, so the most recently busy 2,000 are the ones worth keeping: an evicted one replays
    # its history (at most ~300 events) on its next task, and a worker's memory stays flat however many are
    # open (README "Performance").
    max_cached_workflows: int = Field(default=2_000, ge=0)
    # Connections the API keeps open to PostgreSQL: a request holds one per statement or transaction, so this
    # bounds the database work it does at once (10 queued 50 concurrent clients). Each of the default 100
    # server connections counts: the workers and the codec server take theirs too.
    api_pool_size: int = Field(default=20, ge=1, le=200)
    # How long the API keeps an API key's client (and a clinic's time zone) after looking it up: a revoked or
    # rotated key stops working within this time (api/recent.py). 0: looked up on every request.
    api_key_cache_seconds: float = Field(default=5.0, ge=0, le=60)
    # Request bodies over this many bytes are refused with 413 before they are read.
    max_body_bytes: int = Field(default=256 * 1024, gt=0)
    # Failed authentications one client address may make within the window before it gets 429.
    auth_failures_allowed: int = Field(default=10, gt=0)
    auth_failure_window_seconds: float = Field(default=60.0, gt=0)
    # Addresses of the reverse proxies whose X-Forwarded-For is believed (comma-separated, as uvicorn takes
    # them). Unset: nobody's, so a client cannot pick the address the auth throttle counts it by.
    forwarded_allow_ips: str | None = None
    # How long a patient's link stays good; a pathway's messages take a new one once half of that has passed.
    patient_link_days: float = Field(default=30.0, gt=0)
    # The payload codec's keys (config/codec_keys.py): `id:base64` entries, comma-separated, the first one
    # encrypting; or a file of them. Neither: the local stack's generated file in the data folder.
    codec_keys: SecretStr | None = None
    codec_keys_file: Path | None = None
    # Which of those keys encrypts (its id); unset, the first. A rotation holds a new key as decrypt-only
    # everywhere first (README, "Encrypted history").
    codec_encrypt_key_id: str | None = None
    # The codec server (workers/codec_server.py): where it listens, and the Temporal UI origins (comma-
    # separated, e.g. https://temporal.clinic.example) whose browsers may call it. The local stack answers
    # its own UI's origin when this is unset.
    codec_server_host: str = "127.0.0.1"
    codec_server_port: int = Field(default=8234, gt=0, lt=65536)
    codec_cors_origins: str | None = None
    # The OpenID Connect provider whose access tokens the codec server accepts (the one the Temporal UI signs
    # staff in with, passing their token on), and the audiences (comma-separated) a token must be for.
    codec_oidc_issuer: str | None = None
    codec_oidc_audiences: str | None = None

    # Where the API is reached from outside (https://clinic.example, no trailing slash): patients' links
    # (`{public_url}/p/{token}`) and the SMS gateway's callbacks are addressed there, and the gateway's
    # signatures are computed over it. Unset: links point at the local API (`link_base_url`).
    public_url: str | None = None
    # E-mail: `log` keeps messages in the local outbox only (nothing leaves the machine); `smtp` sends them.
    email_provider: Literal["log", "smtp"] = "log"
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # STARTTLS upgrades the connection before authenticating; off only for a relay on a trusted network.
    smtp_starttls: bool = True
    # A PEM bundle of the CAs trusted for the server's certificate instead of the system's (a relay with a
    # certificate from the clinic's own CA). The certificate is always verified: no switch skips that.
    smtp_ca_file: FilePath | None = None
    email_from: str | None = None
    # SMS: `log` as for e-mail; `twilio` through any gateway that speaks Twilio's Messages API.
    sms_provider: Literal["log", "twilio"] = "log"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    twilio_api_base: str = "https://api.twilio.com"
    # Webhooks (README "Webhooks", delivery/webhook_sender.py). After the first attempt, a delivery that
    # failed is tried again after each of these delays in turn (Standard Webhooks' schedule, about 28 h in
    # all); once they are used up it is `failed`, until redelivered.
    webhook_retry_seconds: list[int] = Field(default=[5, 300, 1800, 7200, 18000, 36000, 36000], min_length=1)
    # How long one attempt may take, and how long a sender holds a delivery it is attempting (longer than
    # the timeout): a sender that dies mid-attempt leaves it to be sent again, with the same id, after that.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_lease_seconds: float = Field(default=60.0, gt=0)
    # The sender wakes at once on a new delivery (LISTEN); it also looks this often, in case it missed one.
    webhook_poll_seconds: float = Field(default=5.0, gt=0)
    # Receivers' URLs must be https, unless this is set (or the profile is demo): for a test receiver.
    webhook_allow_http: bool = False
    # Deliveries one sender attempts at once, and at most so many of them to any one receiver (a receiver
    # that hangs holds no more than that of the sender's slots).
    webhook_concurrency: int = Field(default=8, gt=0, le=256)
    webhook_per_receiver: int = Field(default=2, gt=0, le=256)
    # Receivers must be on public addresses, or on these networks (CIDRs, a JSON list: an EHR on the
    # hospital's own network, say). The demo profile adds this machine's loopback, for a test receiver.
    webhook_allowed_networks: list[IPv4Network | IPv6Network] = []

    @field_validator("log_format", "api_metrics_port", "worker_metrics_port", mode="before")
    @classmethod
    def _none_if_empty(cls, value: object) -> object:
        return value or None

    @field_validator(
        "staff_urgent_email",
        "public_url",
        "otel_exporter_otlp_endpoint",
        "otel_exporter_otlp_traces_endpoint",
        "smtp_host",
        "smtp_username",
        "email_from",
        "twilio_account_sid",
        "twilio_from",
        "codec_cors_origins",
        "codec_oidc_issuer",
        "codec_oidc_audiences",
        "codec_encrypt_key_id",
    )
    @classmethod
    def _unset_if_empty(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("smtp_ca_file", "codec_keys_file", mode="before")
    @classmethod
    def _path_unset_if_empty(cls, value: object) -> object:
        return value or None  # before the check that the file exists: "" would be the current folder

    @field_validator("staff_urgent_phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if not value:  # an empty variable is an unset one
            return None
        if not _E164.fullmatch(value):
            raise ValueError("the on-call phone is an E.164 number: +, country code and number, no spaces")
        return value

    @field_validator("smtp_password", "twilio_auth_token", "codec_keys")
    @classmethod
    def _secret_unset_if_empty(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value and value.get_secret_value() else None

    @field_validator("public_url", "twilio_api_base", "codec_oidc_issuer")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("a URL starting with https:// (or http:// on a test machine)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _providers_configured(self) -> "Settings":
        # Named, never shown: the values may be secrets.
        needed: list[str] = []
        if self.email_provider == "smtp":
            needed += [n for n in ("smtp_host", "email_from") if getattr(self, n) is None]
        if self.sms_provider == "twilio":
            twilio = ("twilio_account_sid", "twilio_auth_token", "twilio_from", "public_url")
            needed += [n for n in twilio if getattr(self, n) is None]
        if needed:
            names = ", ".join(f"DVR_{n.upper()}" for n in needed)
            raise ValueError(f"the chosen notification providers need {names}")
        if self.smtp_ca_file is not None and not self.smtp_starttls:
            # Never used without TLS: refused rather than let it suggest that the connection is protected.
            raise ValueError("DVR_SMTP_CA_FILE is only used with DVR_SMTP_STARTTLS=true")
        return self

    @field_validator("webhook_retry_seconds")
    @classmethod
    def _retry_delays_not_negative(cls, value: list[int]) -> list[int]:
        if any(delay < 0 for delay in value):
            raise ValueError("DVR_WEBHOOK_RETRY_SECONDS: each delay is 0 or more seconds")
        return value

    @model_validator(mode="after")
    def _webhook_lease_outlasts_an_attempt(self) -> "Settings":
        # A lease that ran out mid-attempt would let a second sender send the same delivery at once.
        if self.webhook_lease_seconds <= self.webhook_timeout_seconds:
            raise ValueError("DVR_WEBHOOK_LEASE_SECONDS must be longer than DVR_WEBHOOK_TIMEOUT_SECONDS")
        return self

    @property
    def webhook_http_allowed(self) -> bool:
        """Whether a subscription may name an http:// receiver (else https only)."""
        return self.webhook_allow_http or self.profile == "demo"

    @property
    def webhook_networks_allowed(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """The private networks receivers may be on (domain/webhook_receivers.py)."""
        loopback = (IPv4Network("127.0.0.0/8"), IPv6Network("::1/128")) if self.profile == "demo" else ()
        return (*self.webhook_allowed_networks, *loopback)

    @model_validator(mode="after")
    def _oidc_audiences_given(self) -> "Settings":
        if self.codec_oidc_issuer and not self.oidc_audiences:
            # Without an audience, a token the provider issued for any other application would do.
            raise ValueError("DVR_CODEC_OIDC_ISSUER needs DVR_CODEC_OIDC_AUDIENCES")
        return self

    @model_validator(mode="after")
    def _cors_origins_are_origins(self) -> "Settings":
        # Each entry is compared with a browser's Origin header as it is: `*` would let any site read
        # decrypted history with the session cookie, `null` any sandboxed page or file; a path never matches.
        for origin in self.ui_origins:
            if origin in ("*", "null"):
                raise ValueError(
                    f"DVR_CODEC_CORS_ORIGINS may not allow {origin!r}: name the Temporal UI origins"
                )
            if (canonical := _canonical_origin(origin)) != origin:
                hint = f" (write {canonical})" if canonical else ""
                raise ValueError(
                    f"DVR_CODEC_CORS_ORIGINS: {origin[:100]!r} is not an origin, http(s)://host[:port]"
                    f" with no path{hint}"
                )
        return self

    @model_validator(mode="after")
    def _one_urgent_channel(self) -> "Settings":
        if self.staff_urgent_phone and self.staff_urgent_email:
            # Both would leave one silently unused: an on-call rota must know which one pages it.
            raise ValueError("set DVR_STAFF_URGENT_PHONE or DVR_STAFF_URGENT_EMAIL, not both")
        return self

    def staff_urgent_target(self) -> tuple[Channel, str]:
        """Where urgent staff messages go: the on-call phone by SMS, else the urgent mailbox, else the
        routine staff mailbox (the urgent templates' subject and text start with URGENT, so they stand out
        there)."""
        if self.staff_urgent_phone:
            return Channel.SMS, self.staff_urgent_phone
        return Channel.EMAIL, self.staff_urgent_email or self.staff_email

    @field_validator("bootstrap_api_key")
    @classmethod
    def _strong_enough(cls, value: str | None) -> str | None:
        if value:  # empty: one is generated
            check_key_strength(value)
        return value

    @property
    def ui_origins(self) -> list[str]:
        """The browser origins (scheme://host[:port]) the codec server answers CORS for."""
        given = self.codec_cors_origins or ""
        return [origin.strip().rstrip("/") for origin in given.split(",") if origin.strip()]

    @property
    def oidc_audiences(self) -> list[str]:
        return [
            audience.strip() for audience in (self.codec_oidc_audiences or "").split(",") if audience.strip()
        ]

    @property
    def link_base_url(self) -> str:
        """The origin of patients' links: `public_url`, else the local API's address (`make run`)."""
        return self.public_url or f"http://{self.api_host}:{self.api_port}"


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _canonical_origin(given: str) -> str | None:
    """`given` as a browser would send it in an Origin header, if it is an http(s) origin at all."""
    try:
        parts = urlsplit(given)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host or parts.username is not None or parts.password:
        return None
    if parts.path or parts.query or parts.fragment or given.endswith(("?", "#")):
        return None
    if ":" in host:
        host = f"[{host}]"
    if port == _DEFAULT_PORTS[parts.scheme]:  # browsers leave the scheme's own port out of Origin
        port = None
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")
