"""Login: demo logins generated from the catalog with bcrypt hashes, the password form, roles
taken from the catalog and governance (never from the users file)."""

from __future__ import annotations

import yaml

from app.users import DEMO_PASSWORDS, demo_users, read_users_file, write_users_file
from storage import get_engine
from tests.app.conftest import MAIN, no_exceptions, open_app, texts


def _login(username: str, password: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(MAIN), default_timeout=60)
    at.run()
    at.text_input[0].set_value(username)
    at.text_input[1].set_value(password)
    next(b for b in at.button if b.label == "Log in").click().run()
    return at


def test_demo_logins_cover_every_role_with_real_catalog_people(demo_db):
    engine = get_engine(demo_db)
    users = {u.role: u for u in demo_users(engine)}
    assert {"viewer", "owner", "architect", "readiness_team", "admin"} <= set(users)
    import readiness

    people = readiness.people(engine)
    assert any(r.startswith("owner:") for r in people[users["owner"].username])
    assert any(r.startswith("architect:") for r in people[users["architect"].username])
    assert "readiness_team" in people[users["readiness_team"].username]
    assert "admin" in people[users["admin"].username]
    assert users["viewer"].username not in people


def test_the_users_file_holds_bcrypt_hashes_never_passwords(demo_db, tmp_path):
    path = tmp_path / "users.yaml"
    users = demo_users(get_engine(demo_db))
    write_users_file(path, users)
    text = path.read_text()
    assert all(u.password not in text for u in users)
    config = read_users_file(path)
    assert all(e["password"].startswith("$2") for e in config["credentials"]["usernames"].values())
    assert len(config["cookie"]["key"]) >= 32


def test_a_users_file_with_a_plain_password_is_refused_naming_the_field(tmp_path):
    path = tmp_path / "users.yaml"
    path.write_text(yaml.safe_dump({"cookie": {"name": "c", "key": "k" * 40},
                                    "credentials": {"usernames": {"ana": {"name": "Ana", "password": "secret"}}}}))
    try:
        read_users_file(path)
    except ValueError as exc:
        assert "credentials.usernames.ana.password" in str(exc) and "bcrypt" in str(exc)
    else:
        raise AssertionError("a plain password was accepted")


def test_the_login_page_lists_the_demo_logins_and_shows_no_data(app_env, demo_db):
    app_env(demo_db)
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(MAIN), default_timeout=60).run()
    no_exceptions(at)
    assert [t.label for t in at.text_input] == ["User name", "Password"]
    assert "Demo logins" in texts(at)
    assert "Company score" not in texts(at)


def test_a_wrong_password_is_refused(app_env, demo_db):
    app_env(demo_db)
    at = _login("viewer", "not-the-password")
    assert any("wrong" in e.value for e in at.error)
    assert "Company score" not in texts(at)


def test_a_demo_user_logs_in_and_gets_the_roles_of_the_catalog(app_env, demo_db):
    app_env(demo_db)
    owner = next(u for u in demo_users(get_engine(demo_db)) if u.role == "owner")
    at = _login(owner.username, DEMO_PASSWORDS["owner"])
    no_exceptions(at)
    assert "Company score" in texts(at)
    sidebar = "\n".join(str(e.value) for e in at.sidebar.caption)
    assert "system owner" in sidebar


def test_roles_follow_the_catalog_not_the_session(app_env, demo_db):
    app_env(demo_db)
    at = open_app("views/reviews.py", user="someone.unknown")
    no_exceptions(at)
    assert "You are a viewer" in texts(at)


def test_logging_out_returns_to_the_login(app_env, demo_db):
    app_env(demo_db)
    at = _login("viewer", DEMO_PASSWORDS["viewer"])
    assert "Company score" in texts(at)
    next(b for b in at.sidebar.button if b.label == "Log out").click().run()
    at.run()
    assert [t.label for t in at.text_input] == ["User name", "Password"]
    assert "Company score" not in texts(at)


def test_with_oidc_configured_the_app_offers_the_company_login(app_env, demo_db):
    from streamlit.testing.v1 import AppTest

    app_env(demo_db)
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                          "client_id": "peak", "client_secret": "s",
                          "server_metadata_url": "https://login.example.invalid/.well-known/openid-configuration"}
    at.user = {"is_logged_in": False}
    at.run()
    no_exceptions(at)
    assert [b.label for b in at.button] == ["Log in with your company account"]
    assert not at.text_input


def test_an_oidc_user_gets_the_roles_of_their_catalog_name(app_env, demo_db):
    from streamlit.testing.v1 import AppTest

    app_env(demo_db)
    owner = next(u for u in demo_users(get_engine(demo_db)) if u.role == "owner")
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    at.secrets["auth"] = {"client_id": "peak"}
    at.user = {"is_logged_in": True, "email": f"{owner.username}@company.example", "name": "Owner"}
    at.run()
    no_exceptions(at)
    assert "Company score" in texts(at)
    assert "system owner" in "\n".join(str(e.value) for e in at.sidebar.caption)


def test_without_a_users_file_the_app_refuses_and_says_how_to_create_users(monkeypatch, tmp_path, demo_db):
    from streamlit.testing.v1 import AppTest

    missing = tmp_path / "app-users.yaml"
    monkeypatch.setenv("PEAK_DATABASE_URL", demo_db)
    monkeypatch.setenv("PEAK_APP_USERS_FILE", str(missing))
    at = AppTest.from_file(str(MAIN), default_timeout=60).run()
    no_exceptions(at)
    assert "python -m app.users" in texts(at)
    assert not at.text_input and "Demo logins" not in texts(at) and "demo-admin" not in texts(at)
    assert not missing.exists()  # no passwords made up for anyone


def test_five_wrong_passwords_make_the_user_wait_even_with_the_right_one(app_env, demo_db):
    app_env(demo_db)
    for _ in range(5):
        assert any("wrong" in e.value for e in _login("viewer", "guess").error)
    at = _login("viewer", DEMO_PASSWORDS["viewer"])
    assert any("try again in 15 minutes," in e.value for e in at.error)
    assert "Company score" not in texts(at)
    other = next(u for u in demo_users(get_engine(demo_db)) if u.role == "owner")
    assert "Company score" in texts(_login(other.username, DEMO_PASSWORDS["owner"]))  # only that user waits


def test_the_throttle_forgets_failures_older_than_its_window():
    from datetime import UTC, datetime, timedelta

    from app.throttle import LoginThrottle

    throttle, start = LoginThrottle(), datetime(2026, 12, 1, tzinfo=UTC)
    for minute in range(5):
        throttle.failed("ana", start + timedelta(minutes=minute))
    assert throttle.wait("ana", start + timedelta(minutes=5)) == timedelta(minutes=10)
    assert throttle.wait("ana", start + timedelta(minutes=15, seconds=1)) is None  # the first has aged out
    assert throttle.wait("bob", start) is None
    throttle.failed("ana", start + timedelta(minutes=16))
    throttle.succeeded("ana")
    assert throttle.wait("ana", start + timedelta(minutes=16)) is None


def test_the_wait_is_said_in_words():
    from datetime import timedelta

    from app.throttle import wait_message

    assert "try again in 1 minute," in wait_message(timedelta(seconds=20))
    assert "try again in 10 minutes," in wait_message(timedelta(minutes=10))
