"""Notifications: e-mail to a local SMTP sink, a local JSON webhook, retries, an outbox that keeps all."""

from __future__ import annotations

from datetime import timedelta

import flashsales
from flashsales import notify
from tests.flashsales.conftest import free_port
from tests.flashsales.helpers import NOW, OWNERS, RATELIMIT_USER, READINESS_USER, request, settings


def test_a_decision_reaches_everyone_involved_by_email(org_engine, smtp_sink):
    config = settings(notify_urls=(smtp_sink.url(),))
    sale = flashsales.submit(org_engine, request(), now=NOW, settings=config).request
    flashsales.approve(org_engine, sale.id, actor=RATELIMIT_USER, now=NOW, settings=config)
    mails = smtp_sink.wait_for(1)
    by_event: dict[str, set[str]] = {}
    for mail in mails:
        kind = ("submitted" if "new flash sale" in mail.subject else "requested" if "increase requested"
                in mail.subject else "approved" if "increase approved" in mail.subject else mail.subject)
        by_event.setdefault(kind, set()).update(mail.recipients)
    assert by_event["submitted"] == {f"{READINESS_USER}@example.com", "bd.bea@example.com"}
    assert by_event["requested"] == {f"{RATELIMIT_USER}@example.com", f"{READINESS_USER}@example.com"}
    expected = {f"{u}@example.com" for u in ("bd.bea", "kam.kai", "se.sol", READINESS_USER, *OWNERS)}
    assert by_event["approved"] == expected  # purchase-flow owners (CHK, PAY), not the reports team
    approved = next(m for m in mails if "increase approved" in m.subject)
    assert "2026-11-03 12:00 +00:00 to 2026-11-03 16:00 +00:00" in approved.subject
    assert "Countries: SE, DE" in approved.body
    assert "Rate limit: 1600 rpm (temporary, until 2026-11-03 16:00 +00:00)" in approved.body
    assert "busiest hour is usually 20:00" in approved.body
    assert all(m.sender == "peak@example.com" for m in mails)
    notes = flashsales.get_request(org_engine, sale.id).notifications
    assert [(n.event, n.status) for n in notes] == [
        ("submitted", "sent"), ("increase_requested", "sent"), ("approved", "sent")]


def test_times_are_shown_in_the_offset_the_reporter_wrote(org_engine, smtp_sink):
    config = settings(notify_urls=(smtp_sink.url(),))
    raw = request(starts_at="2026-11-03T10:00:00+01:00", ends_at="2026-11-03T14:30:00+01:00")
    flashsales.submit(org_engine, raw, now=NOW, settings=config)
    decision = next(m for m in smtp_sink.wait_for(2) if "increase requested" in m.subject)
    assert "2026-11-03 10:00 +01:00 to 2026-11-03 14:30 +01:00" in decision.body
    assert "(UTC 2026-11-03 09:00 to 2026-11-03 13:30)" in decision.body


def test_a_webhook_gets_the_message_and_a_failed_post_is_retried(org_engine, webhook):
    webhook.fail_next = 2
    config = settings(notify_urls=(webhook.url,), notify_attempts=3)
    sale = flashsales.submit(org_engine, request(expected_multiplier=2), now=NOW, settings=config).request
    notes = flashsales.get_request(org_engine, sale.id).notifications
    assert [(n.event, n.status, n.attempts) for n in notes] == [
        ("submitted", "sent", 3), ("no_change_needed", "recorded", 0)]  # a decision changing nothing: kept
    assert len(webhook.posts) == 1
    assert "new flash sale announced" in webhook.posts[0]["title"]
    assert "To: " in webhook.posts[0]["message"] and "bd.bea@example.com" in webhook.posts[0]["message"]
    assert "None" not in webhook.posts[0]["message"]


def test_an_unreachable_destination_is_recorded_and_the_request_kept(org_engine, smtp_sink):
    dead = f"json://127.0.0.1:{free_port()}/nobody"
    sleeps = []
    config = settings(notify_urls=(dead, smtp_sink.url()), notify_attempts=2, notify_backoff_seconds=1.5)
    result = flashsales.submit(org_engine, request(), now=NOW, settings=config, sleep=sleeps.append)
    assert result.request.status == "increase_requested"
    notes = flashsales.get_request(org_engine, result.request.id).notifications
    failed = [n for n in notes if n.status == "failed"]
    assert len(failed) == 2 and all(n.attempts == 2 and n.last_error for n in failed)
    assert sleeps == [1.5, 1.5]  # one backoff per failed message before its second attempt
    assert {n.status for n in notes if n.destination.startswith("mailto")} == {"sent"}
    assert len(smtp_sink.wait_for(2)) >= 2


def test_failed_notifications_are_sent_later_by_retry(org_engine, webhook):
    webhook.fail_next = 100
    config = settings(notify_urls=(webhook.url,), notify_attempts=1)
    sale = flashsales.submit(org_engine, request(), now=NOW, settings=config).request
    assert {n.status for n in flashsales.get_request(org_engine, sale.id).notifications} == {"failed"}
    webhook.fail_next = 0
    report = notify.retry_failed(org_engine, config, sleep=lambda _: None)
    assert (report.sent, report.failed) == (2, 0)
    notes = flashsales.get_request(org_engine, sale.id).notifications
    assert {(n.status, n.attempts) for n in notes} == {("sent", 2)}
    assert len(webhook.posts) == 2


def test_without_configured_urls_the_message_is_kept_as_skipped(org_engine):
    sale = flashsales.submit(org_engine, request(), now=NOW, settings=settings()).request
    notes = flashsales.get_request(org_engine, sale.id).notifications
    assert {n.status for n in notes} == {"skipped"}
    assert all("PEAK_NOTIFY_URLS" in n.last_error for n in notes)


def test_secrets_in_urls_are_not_stored(org_engine, smtp_sink):
    url = f"mailto://user:s3cret@{smtp_sink.host}:{smtp_sink.port}?from=peak@example.com&mode=insecure"
    assert "s3cret" not in notify.masked(url)
    sale = flashsales.submit(org_engine, request(), now=NOW + timedelta(seconds=1),
                          settings=settings(notify_urls=(url,), notify_attempts=1)).request
    assert all("s3cret" not in n.destination for n in flashsales.get_request(org_engine, sale.id).notifications)
