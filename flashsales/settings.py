"""Configuration: notification URLs, the rate-limit team, review parameters.

Read from an optional YAML file (``--config`` or ``PEAK_FLASHSALES_CONFIG``), then
environment variables, which win:

- ``PEAK_NOTIFY_URLS``: apprise URLs separated by spaces or commas
  (``mailto://...``, ``json://...``, ``slack://...``, ``msteams://...``);
- ``PEAK_NOTIFY_EMAIL_DOMAIN``: turns user names into addresses (``jane.doe@DOMAIN``);
- ``PEAK_FLASHSALES_RATELIMIT_TEAM``: user names of the central rate-limit team
  (added to the grants stored with ``flashsales roles grant``);
- ``PEAK_FLASHSALES_HISTORY_DIR``: the directory merchant history files must be in
  (``flashsales merchants set --history``); unset, people cannot register history files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from flashsales.errors import FieldProblem, InputError
from storage import YamlError, read_config

CONFIG_ENV = "PEAK_FLASHSALES_CONFIG"
ENV_FIELDS = {
    "PEAK_NOTIFY_URLS": "notify_urls",
    "PEAK_NOTIFY_EMAIL_DOMAIN": "email_domain",
    "PEAK_FLASHSALES_RATELIMIT_TEAM": "ratelimit_team",
    "PEAK_NOTIFY_ATTEMPTS": "notify_attempts",
    "PEAK_FLASHSALES_HISTORY_DIR": "history_dir",
}


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    notify_urls: tuple[str, ...] = ()
    email_domain: str = "example.com"
    ratelimit_team: tuple[str, ...] = ()
    notify_attempts: int = Field(default=3, ge=1, le=10)
    notify_backoff_seconds: float = Field(default=2.0, ge=0, le=300)
    # How many requests one merchant request causes at the purchase flow's entry system (the call
    # ratios Kapacity stores then carry them to the other purchase-flow systems).
    requests_per_merchant_request: float = Field(default=1.0, gt=0, le=100)
    limit_step_rpm: int = Field(default=10, ge=1)  # proposed limits are rounded up to this
    # Merchant history files are confined here, so a merchant record cannot point at any file.
    history_dir: Path | None = None

    @field_validator("notify_urls", "ratelimit_team", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part for part in re.split(r"[\s,]+", value) if part)
        return value


def load_settings(config: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """The file's values overlaid with the environment's; errors name the file and key."""
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    path = config or env.get(CONFIG_ENV)
    origin = str(path) if path else "environment"
    if path:
        path = Path(path)
        if not path.is_file():
            raise InputError(FieldProblem("config", f"file not found: {path}"))
        try:
            loaded = read_config(path) or {}
        except YamlError as exc:  # invalid, not UTF-8, or beyond the safe reader's limits (aliases, size)
            where = f"line {exc.line}: " if exc.line is not None else ""
            raise InputError(FieldProblem("config", where + exc.problem), origin=str(path)) from None
        if not isinstance(loaded, dict):
            raise InputError(FieldProblem("config", "expected a mapping of settings"), origin=str(path))
        values.update(loaded)
    for variable, name in ENV_FIELDS.items():
        if env.get(variable):
            values[name] = env[variable]
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise InputError([FieldProblem(".".join(str(p) for p in err["loc"]) or "config", err["msg"])
                          for err in exc.errors()], origin=origin) from None
