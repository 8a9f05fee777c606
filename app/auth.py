"""Login and the logged-in user's roles.

Two ways in:
- **password** (the embedded default): streamlit-authenticator over a config
  file with bcrypt hashes (``PEAK_APP_USERS_FILE``, default
  ``demo/app-users.yaml``). When the file is missing the app refuses to start
  and says how to write it (``python -m app.users``): it never invents
  passwords. A demo users file (``make app`` writes one) lists its logins on the
  login page. Five wrong passwords for one user name within 15 minutes make
  that name wait (``app.throttle``).
- **oidc**: Streamlit's ``st.login`` when an ``[auth]`` section is configured
  in ``.streamlit/secrets.toml`` (or ``PEAK_APP_AUTH=oidc``). The user name is
  the ``preferred_username`` claim, else the e-mail's local part.

Roles always come from ``readiness.people`` (catalog teams and domains plus
governance grants), the same source the service layer checks on every write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

import streamlit as st

from app import data
from app.throttle import MAX_FAILURES, LoginThrottle, wait_message
from app.users import ROLE_LABELS, display_name, read_users_file

SESSION_USER = "peak_user"


@dataclass(frozen=True)
class User:
    username: str
    name: str
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def teams(self) -> set[str]:
        return {r.split(":", 1)[1] for r in self.roles if r.startswith("owner:")}

    @property
    def domains(self) -> set[str]:
        return {r.split(":", 1)[1] for r in self.roles if r.startswith("architect:")}

    @property
    def readiness_team(self) -> bool:
        return "readiness_team" in self.roles

    @property
    def admin(self) -> bool:
        return "admin" in self.roles

    def owns(self, team: str | None) -> bool:
        return bool(team) and team in self.teams

    def architect_of(self, domain: str | None) -> bool:
        return bool(domain) and domain in self.domains

    @property
    def labels(self) -> list[str]:
        labels = []
        if self.teams:
            labels.append(f"system owner ({', '.join(sorted(self.teams))})")
        if self.domains:
            labels.append(f"domain architect ({', '.join(sorted(self.domains))})")
        labels += [ROLE_LABELS[r] for r in ("readiness_team", "admin", "ratelimit_team") if r in self.roles]
        return labels or ["viewer"]


def user_for(url: str, username: str, name: str | None = None) -> User:
    roles = set(data.people(url).get(username, [])) if data.schema_ready(url) else set()
    if username in data.ratelimit_team(url):
        roles.add("ratelimit_team")  # flashsales' own grant (flashsales roles grant USER)
    return User(username=username, name=name or display_name(username), roles=frozenset(roles))


def current() -> User | None:
    return st.session_state.get(SESSION_USER)


DEEP_LINK = "peak_deep_link"


def remember_deep_link() -> None:
    """Before login, note the page and query the browser asked for.

    The login's cookie check reruns the script before navigation has resolved
    the URL, and that rerun lands on the default page; ``follow_deep_link``
    goes on to the page asked for once the user is in.
    """
    if st.session_state.get("authentication_status") or DEEP_LINK in st.session_state:
        return
    try:
        path = urlparse(str(st.context.url or "")).path.rstrip("/").rsplit("/", 1)[-1]
    except Exception:  # noqa: BLE001 - no browser context (tests, bare mode)
        return
    st.session_state[DEEP_LINK] = (path, {k: st.query_params[k] for k in st.query_params})


def follow_deep_link(current, pages: list) -> None:
    link = st.session_state.pop(DEEP_LINK, None)
    if not link or not link[0] or link[0] == current.url_path:
        return
    target = next((p for p in pages if p.url_path == link[0]), None)
    if target is not None:
        st.switch_page(target, query_params=link[1])


def _mode() -> str:
    mode = data.settings().auth
    if mode != "auto":
        return mode
    try:
        return "oidc" if "auth" in st.secrets else "password"
    except Exception:  # noqa: BLE001 - no secrets file at all
        return "password"


def require_login() -> User | None:
    """Render the login when nobody is logged in; return the user (roles re-read every run)."""
    url = data.db_url()
    if _mode() == "oidc":
        return _oidc_login(url)
    return _password_login(url)


def _oidc_login(url: str) -> User | None:
    if not st.user.is_logged_in:
        st.title("Peak readiness")
        st.button("Log in with your company account", on_click=st.login, type="primary")
        return None
    username = st.user.get("preferred_username") or str(st.user.get("email", "")).split("@")[0]
    user = user_for(url, username, st.user.get("name"))
    st.session_state[SESSION_USER] = user
    return user


@st.cache_data(ttl=30, show_spinner=False)
def _users_config(path: str, url: str) -> dict:
    from pathlib import Path

    if not Path(path).exists():
        raise ValueError(f"no users file at {path}. Write it with `python -m app.users --db DATABASE_URL` "
                         "(PEAK_APP_USERS_FILE chooses where); the app does not make up logins")
    return read_users_file(Path(path))


@st.cache_resource
def _throttle() -> LoginThrottle:
    return LoginThrottle()


def _password_login(url: str) -> User | None:
    import streamlit_authenticator as stauth

    try:
        config = _users_config(str(data.settings().users_file), url)
    except ValueError as exc:
        st.title("Peak readiness")
        st.error(f"Login is not set up: {exc}")
        return None
    throttle = _throttle()
    waits = {name: throttle.wait(name) for name in config["credentials"]["usernames"]}
    # stauth refuses a user whose count reaches max_login_attempts: the count is ours, per window
    credentials = {"usernames": {name: {**entry, "failed_login_attempts": MAX_FAILURES if waits[name] else 0}
                                 for name, entry in config["credentials"]["usernames"].items()}}
    authenticator = stauth.Authenticate(credentials, config["cookie"]["name"], config["cookie"]["key"],
                                        config["cookie"].get("expiry_days", 1), auto_hash=False)
    if not st.session_state.get("authentication_status"):
        st.title("Peak readiness")
        st.caption("Readiness for the peak season: scores, findings, capacity, tests and flash sales.")
        left, right = st.columns([2, 3])
        with left:
            _login_form(authenticator, credentials, waits, throttle)
        with right:
            if config.get("demo"):
                _demo_logins(config)
        if not st.session_state.get("authentication_status"):
            return None
    username = st.session_state.get("username")
    user = user_for(url, username, st.session_state.get("name"))
    st.session_state[SESSION_USER] = user
    st.session_state["_authenticator_logout"] = authenticator
    return user


def _login_form(authenticator, credentials: dict, waits: dict, throttle: LoginThrottle) -> None:
    """The form; a wrong password counts against its user name, a locked name is told to wait."""
    import streamlit_authenticator as stauth

    try:
        authenticator.login(location="main", max_login_attempts=MAX_FAILURES,
                            fields={"Form name": "Log in", "Username": "User name", "Password": "Password",
                                    "Login": "Log in"})
    except stauth.LoginError as exc:
        longest = max((w for w in waits.values() if w), default=None)
        st.error(wait_message(longest) if longest else str(exc))
        return
    for name, entry in credentials["usernames"].items():
        if not waits[name] and entry.get("failed_login_attempts", 0) > 0:
            throttle.failed(name)
    if st.session_state.get("authentication_status") is False:
        st.error("User name or password is wrong.")
    elif st.session_state.get("authentication_status"):
        throttle.succeeded(st.session_state.get("username"))


def _demo_logins(config: dict) -> None:
    from app.users import DEMO_PASSWORDS

    rows = [{"role": ROLE_LABELS.get(entry.get("demo_role", ""), "?"), "user name": name,
             "password": DEMO_PASSWORDS.get(entry.get("demo_role", ""), "?")}
            for name, entry in config["credentials"]["usernames"].items()]
    st.info("**Demo logins** (this organisation is the generated demo; the passwords are public).")
    st.dataframe(rows, hide_index=True)


def logout_button() -> None:
    authenticator = st.session_state.get("_authenticator_logout")
    if authenticator is not None:
        authenticator.logout("Log out", location="sidebar", key="peak_logout")
    elif _mode() == "oidc":
        st.sidebar.button("Log out", on_click=st.logout)
