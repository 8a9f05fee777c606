"""The dashboard's settings, from the environment (``PEAK_DATABASE_URL``, ``PEAK_APP_*``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage import database_url


class AppSettings(BaseSettings):
    """Where the data is, who may log in, and how long query results are cached."""

    model_config = SettingsConfigDict(env_prefix="PEAK_APP_", extra="ignore")

    database_url: str = Field(default_factory=database_url,
                              validation_alias=AliasChoices("PEAK_DATABASE_URL", "PEAK_APP_DATABASE_URL"))
    users_file: Path = Path("demo/app-users.yaml")  # streamlit-authenticator config with bcrypt hashes
    auth: Literal["auto", "password", "oidc"] = "auto"  # auto: OIDC when [auth] is in secrets.toml
    cache_ttl: int = Field(default=120, ge=0)  # seconds a query result is reused
    docs_dir: Path = Path("docs/rules")  # generated rule pages (`readiness rules docs`)


def load_settings() -> AppSettings:
    return AppSettings()
