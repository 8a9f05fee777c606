"""Secrets of notification URLs are masked with apprise's privacy mode, and kept out of errors and logs."""

from __future__ import annotations

import logging

import pytest

import notifications
from notifications import Outcome, masked, redact, secrets

SLACK = "slack://TOKENA1/TOKENB2/TOKENC3"
SLACK_WEBHOOK = "https://hooks.slack.com/services/TOKENA1/TOKENB2/TOKENC3"
TEAMS = "msteams://team/TEAMSTOKA@TENANTTOK/TEAMSTOKB/TEAMSTOKC"
JSON = "json://hooks.example.com/path?secret"
MAIL = "mailtos://user:password@host"
MAIL_PARSED = "mailtos://user:p4ssw0rd@mail.example.com"


@pytest.mark.parametrize("url, hidden", [
    (SLACK, ["TOKENA1", "TOKENB2", "TOKENC3"]),
    (SLACK_WEBHOOK, ["TOKENA1", "TOKENB2", "TOKENC3"]),
    (TEAMS, ["TEAMSTOKA", "TENANTTOK", "TEAMSTOKB", "TEAMSTOKC"]),
    (JSON, ["secret"]),
    (MAIL, ["password"]),
    (MAIL_PARSED, ["p4ssw0rd"]),
    ("json://user:pw123@hooks.example.com/path", ["pw123"]),
])
def test_masked_urls_show_no_secret(url, hidden):
    shown = masked(url)
    assert not [secret for secret in hidden if secret in shown]
    assert set(hidden) <= set(secrets(url))


def test_apprise_privacy_mode_keeps_what_is_not_secret():
    assert masked(SLACK).startswith("slack://T...1/T...2/T...3/")  # apprise's own form
    assert masked(MAIL_PARSED).startswith("mailtos://user:****@mail.example.com")
    assert masked(JSON).startswith("json://hooks.example.com/path")


@pytest.mark.parametrize("url, expected", [
    (TEAMS, "msteams://****"),  # apprise 2 has no msteams plugin: it cannot read the URL
    (MAIL, "mailtos://****"),  # no valid sender address
    ("nonsense://abc/def", "nonsense://****"),
    ("not a url at all", "****"),
])
def test_a_url_apprise_cannot_read_shows_only_its_scheme(url, expected):
    assert masked(url) == expected


def test_redact_takes_the_secrets_out_of_any_text():
    text = "HTTPSConnectionPool: Max retries exceeded with url: /services/TOKENA1/TOKENB2/TOKENC3"
    assert redact(text, SLACK) == "HTTPSConnectionPool: Max retries exceeded with url: /services/****/****/****"
    assert redact("login failed for user:password", MAIL) == "login failed for ****:****"


def test_apprise_does_not_log_an_unreadable_url_whole(caplog):
    caplog.set_level(logging.DEBUG)
    masked(TEAMS)
    notifications.send(TEAMS, "subject", "body", attempts=1)
    assert "TEAMSTOKB" not in caplog.text and "TENANTTOK" not in caplog.text
    assert "msteams://" in caplog.text  # apprise still says which URL it could not read


class Failing:
    def __init__(self, message: str):
        self.message, self.urls = message, []

    def send(self, url: str, subject: str, body: str) -> str | None:
        self.urls.append(url)
        raise ConnectionError(self.message)


def test_send_retries_with_backoff_and_keeps_secrets_out_of_the_error():
    sender, sleeps = Failing(f"cannot reach {SLACK_WEBHOOK}"), []
    outcome = notifications.send(SLACK, "s", "b", sender=sender, attempts=3, backoff_seconds=1.5,
                                 sleep=sleeps.append)
    assert outcome == Outcome("ConnectionError: cannot reach https://hooks.slack.com/services/****/****/****", 3)
    assert sleeps == [1.5, 3.0] and not outcome.sent


def test_mail_urls_get_the_recipients_as_to():
    sender = Failing("down")
    notifications.send("mailto://mail.example.com?to=a@x.org", "s", "b", recipients=["b@x.org"],
                       sender=sender, attempts=1)
    assert sender.urls == ["mailto://mail.example.com?to=a@x.org,b@x.org"]
    assert notifications.address("jane", "corp.example") == "jane@corp.example"
    assert notifications.split_urls(" a://x, b://y  c://z") == ["a://x", "b://y", "c://z"]
