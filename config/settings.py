"""Settings read from the environment (prefix `DVR_`, plus `DATABASE_URL`)."""

import re
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.api_keys import check_key_strength
from domain.config import Profile, ReliefThreshold
from domain.notifications import Channel

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


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
    update_timeout_seconds: float = 30.0
    # Open pathways one worker keeps in memory (~100 KiB each); an evicted one replays its history when read.
    max_cached_workflows: int = 10_000
    # Request bodies over this many bytes are refused with 413 before they are read.
    max_body_bytes: int = Field(default=256 * 1024, gt=0)
    # Failed authentications one client address may make within the window before it gets 429.
    auth_failures_allowed: int = Field(default=10, gt=0)
    auth_failure_window_seconds: float = Field(default=60.0, gt=0)
    # Addresses of the reverse proxies whose X-Forwarded-For is believed (comma-separated, as uvicorn takes
    # them). Unset: nobody's, so a client cannot pick the address the auth throttle counts it by.
    forwarded_allow_ips: str | None = None
    # Where patients reach the API: the origin of the links in their messages (`{public_url}/p/{token}`).
    public_url: str = "http://127.0.0.1:8000"
    # How long a patient's link stays good; a pathway's messages take a new one once half of that has passed.
    patient_link_days: float = Field(default=30.0, gt=0)

    @field_validator("staff_urgent_email")
    @classmethod
    def _unset_if_empty(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("staff_urgent_phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if not value:  # an empty variable is an unset one
            return None
        if not _E164.fullmatch(value):
            raise ValueError("the on-call phone is an E.164 number: +, country code and number, no spaces")
        return value

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
