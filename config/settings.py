"""Settings read from the environment (prefix `DVR_`, plus `DATABASE_URL`)."""

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.config import Profile, ReliefThreshold


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DVR_", extra="ignore")

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
    log_level: str = "info"
    update_timeout_seconds: float = 30.0
    # Open pathways one worker keeps in memory (~100 KiB each); an evicted one replays its history when read.
    max_cached_workflows: int = 10_000
