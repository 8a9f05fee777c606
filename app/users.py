"""Login accounts for the embedded password login: a streamlit-authenticator config file.

The file holds user names, display names and bcrypt hashes, never plain
passwords, plus the cookie signing key. Roles are NOT taken from it: they come
from the catalog and governance (``readiness.people``), the same source the
service layer checks, so the page offers exactly the writes the service allows.

For the demo organisation, ``demo_users`` picks one person per role from the
catalog (the owner of the worst system, an architect of its domain, the
readiness team and admin grants) and gives each a documented demo password.
Run ``python -m app.users --db URL`` to (re)write the file and print the logins.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import yaml
from sqlalchemy.engine import Engine

import flashsales
import readiness
from storage import YamlError, get_engine, read_config, utcnow

ROLES = ("viewer", "owner", "architect", "readiness_team", "admin", "ratelimit_team")
ROLE_LABELS = {"viewer": "viewer", "owner": "system owner", "architect": "domain architect",
               "readiness_team": "readiness team", "admin": "admin", "ratelimit_team": "rate-limit team"}
DEMO_PASSWORDS = {role: f"demo-{role.replace('_', '-')}" for role in ROLES}
VIEWER = "viewer"


@dataclass(frozen=True)
class DemoUser:
    role: str
    username: str
    name: str
    password: str
    why: str  # what this login is good for in the demo


def display_name(username: str) -> str:
    return " ".join(part.capitalize() for part in username.replace("_", ".").split(".") if part) or username


def demo_users(engine: Engine) -> list[DemoUser]:
    """One login per role, drawn from the catalog so each sees real work to do."""
    people = readiness.people(engine)
    systems = {s.system_id: s for s in readiness.active_systems(engine)}
    focus = _worst_system(engine, systems)
    users = [DemoUser("viewer", VIEWER, "Demo Viewer", DEMO_PASSWORDS["viewer"], "reads everything, writes nothing")]
    if focus is not None:
        owner = _first(people, f"owner:{focus.team}")
        if owner:
            users.append(DemoUser("owner", owner, display_name(owner), DEMO_PASSWORDS["owner"],
                                  f"owns {focus.system_id} ({focus.name}) in team {focus.team}"))
        architect = _first(people, f"architect:{focus.domain}")
        if architect:
            users.append(DemoUser("architect", architect, display_name(architect), DEMO_PASSWORDS["architect"],
                                  f"approves reviews and waivers in domain {focus.domain}"))
    for role in ("readiness_team", "admin"):
        granted = _first(people, role)
        if granted:
            users.append(DemoUser(role, granted, display_name(granted), DEMO_PASSWORDS[role],
                                  f"holds the {ROLE_LABELS[role]} role"))
    ratelimit = _ratelimit_member(engine)
    if ratelimit and ratelimit not in {u.username for u in users}:
        users.append(DemoUser("ratelimit_team", ratelimit, display_name(ratelimit), DEMO_PASSWORDS["ratelimit_team"],
                              "decides flash-sale rate-limit increases"))
    return users


def _ratelimit_member(engine: Engine) -> str | None:
    """The first member of flashsales' central rate-limit team, when it has one."""
    try:
        members = flashsales.ratelimit_team(engine, flashsales.load_settings())
    except Exception:  # noqa: BLE001 - no tables or no settings: no such demo login
        return None
    return sorted(members)[0] if members else None


def _first(people: dict[str, set[str]], role: str) -> str | None:
    holders = sorted(user for user, roles in people.items() if role in roles)
    return holders[0] if holders else None


def _worst_system(engine: Engine, systems: dict) -> object | None:
    if not systems:
        return None
    try:
        ranked = readiness.scores(engine, "system")
    except readiness.NotFound:
        ranked = []
    ranked.sort(key=lambda row: (row["score"], -row["points_outstanding"], row["key"]))  # as the Overview ranks
    for row in ranked:
        if row["key"] in systems and row["score"] < 100:
            return systems[row["key"]]
    return systems[sorted(systems)[0]]


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=12)).decode()


def users_config(users: list[DemoUser], *, demo: bool = True) -> dict:
    """A streamlit-authenticator config: credentials with bcrypt hashes and a fresh cookie key."""
    return {
        "cookie": {"name": "peak_readiness_auth", "key": secrets.token_hex(32), "expiry_days": 1},
        "credentials": {"usernames": {
            u.username: {"name": u.name, "email": f"{u.username}@demo.invalid", "password": hash_password(u.password),
                         "demo_role": u.role}
            for u in users}},
        "demo": demo,
        "generated_at": utcnow().isoformat(timespec="seconds"),
    }


def write_users_file(path: Path, users: list[DemoUser]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(yaml.safe_dump(users_config(users), sort_keys=False), encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)


def read_users_file(path: Path) -> dict:
    """Load and check a users file, naming the file and the field at fault."""
    try:
        config = read_config(Path(path)) or {}
    except YamlError as exc:  # invalid, not UTF-8, or beyond the safe reader's limits (aliases, size)
        raise ValueError(str(exc)) from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: expected a mapping with credentials and cookie")
    users = (config.get("credentials") or {}).get("usernames")
    if not isinstance(users, dict) or not users:
        raise ValueError(f"{path}: field credentials.usernames must map user names to name/password entries")
    for name, entry in users.items():
        password = (entry or {}).get("password", "")
        if not str(password).startswith("$2"):
            raise ValueError(f"{path}: credentials.usernames.{name}.password must be a bcrypt hash "
                             "(write it with `python -m app.users`)")
    cookie = config.get("cookie") or {}
    if not cookie.get("key") or not cookie.get("name"):
        raise ValueError(f"{path}: field cookie needs name and key (a long random secret)")
    return config


def format_logins(users: list[DemoUser]) -> str:
    width = max(len(u.username) for u in users)
    lines = [f"{'role':<16} {'user':<{width}}  {'password':<20} what for"]
    lines += [f"{ROLE_LABELS[u.role]:<16} {u.username:<{width}}  {u.password:<20} {u.why}" for u in users]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.users",
                                     description="Write the dashboard's demo logins (bcrypt-hashed) and print them.")
    parser.add_argument("--db", default=None, help="database URL (default: PEAK_DATABASE_URL or sqlite:///peak.db)")
    parser.add_argument("--out", type=Path, default=None, help="users file (default: PEAK_APP_USERS_FILE or "
                        "demo/app-users.yaml)")
    args = parser.parse_args(argv)
    from app.settings import load_settings

    settings = load_settings()
    engine = readiness.open_database(get_engine(args.db or settings.database_url))
    users = demo_users(engine)
    out = args.out or settings.users_file
    write_users_file(out, users)
    print(format_logins(users))
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
