"""The outbox: stored before sent, delivered once a channel exists, never twice after a crash, backoff."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest

import notifications
from notifications import Draft, Routing
from storage import utcnow
from tests.notifications.sinks import webhook_sink
from tests.ops.support import READINESS, REPO, env_for_tests

NO_SLEEP = {"sleep": lambda _seconds: None, "attempts": 1}


@pytest.fixture
def sink():
    with webhook_sink() as running:
        yield running


def _draft(key="digest:team:checkout:1", audiences=None) -> Draft:
    return Draft("readiness", "digest", key, "Weekly digest for Checkout", "Score: 80.0",
                 audiences or {"team:checkout>group:pay-core>domain:pay": ["cy@corp.example"]}, ref="team:checkout")


def test_a_message_without_a_channel_is_kept_and_delivered_by_retry_once_one_is_set(engine, sqlite_url, sink,
                                                                                    tmp_path):
    [row_id] = notifications.enqueue(engine, _draft(), Routing())
    report = notifications.deliver(engine, Routing(), ids=[row_id], **NO_SLEEP)
    assert (report.sent, report.skipped) == (0, 1)
    assert notifications.show_message(engine, row_id)["status"] == "skipped"

    routing = tmp_path / "routing.yaml"
    routing.write_text(f"groups:\n  pay-core: {sink.url('core')}\n")
    env = env_for_tests(PEAK_NOTIFY_ROUTING=str(routing))
    done = subprocess.run([*READINESS, "notifications", "retry", "--db", sqlite_url], capture_output=True,
                          text=True, timeout=120, env=env, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "sent 1" in done.stderr
    assert sink.titles("core") == ["Weekly digest for Checkout"]
    assert "To: cy@corp.example" in sink.posts["core"][0]["message"]
    shown = subprocess.run([*READINESS, "notifications", "show", str(row_id), "--db", sqlite_url],
                           capture_output=True, text=True, timeout=120, env=env, cwd=REPO)
    assert "status: sent" in shown.stdout and "Score: 80.0" in shown.stdout
    again = subprocess.run([*READINESS, "notifications", "retry", "--db", sqlite_url], capture_output=True,
                           text=True, timeout=120, env=env, cwd=REPO)
    assert again.returncode == 0 and len(sink.posts["core"]) == 1  # sent means sent: never again


def test_a_crash_after_the_send_and_before_the_mark_sends_no_duplicate(any_engine, sink, monkeypatch):
    engine = any_engine
    routing = Routing((sink.url("all"),))
    ids = notifications.enqueue(engine, _draft(), routing)

    def crash(*_args, **_kwargs):
        raise KeyboardInterrupt("the process dies after the post, before it records it")

    from notifications import outbox

    monkeypatch.setattr(outbox, "mark", crash)
    with pytest.raises(KeyboardInterrupt):
        notifications.deliver(engine, routing, ids=ids, **NO_SLEEP)
    monkeypatch.undo()
    assert len(sink.posts["all"]) == 1

    # the restarted process: enqueuing the same message again and retrying sends nothing more
    assert notifications.enqueue(engine, _draft(), routing) == ids
    report = notifications.deliver(engine, routing, **NO_SLEEP)
    assert (report.sent, report.failed) == (0, 0)
    assert len(sink.posts["all"]) == 1
    assert notifications.show_message(engine, ids[0])["status"] == "sending"  # unconfirmed, shown as such
    assert notifications.counts(engine)["sending"] == 1


def test_audiences_sharing_a_channel_get_one_message_with_everyone_listed(engine, sink):
    routing = Routing((sink.url("all"),))
    draft = _draft(audiences={"role:readiness_team": ["rob@corp.example"], "team:checkout": ["cy@corp.example"]})
    ids = notifications.enqueue(engine, draft, routing)
    notifications.deliver(engine, routing, ids=ids, **NO_SLEEP)
    assert len(ids) == 1 and len(sink.posts["all"]) == 1
    assert "To: cy@corp.example, rob@corp.example" in sink.posts["all"][0]["message"]


def test_a_failed_send_waits_for_its_backoff_and_goes_out_when_the_endpoint_recovers(engine, sink):
    routing = Routing((sink.url("all"),))
    sink.fail_next = 1
    now = utcnow()
    ids = notifications.enqueue(engine, _draft(), routing, now=now)
    first = notifications.deliver(engine, routing, ids=ids, now=now, backoff_seconds=60, **NO_SLEEP)
    assert first.failed == 1
    row = notifications.show_message(engine, ids[0])
    assert row["status"] == "failed" and row["next_attempt_at"] == now + timedelta(seconds=60)

    early = notifications.deliver(engine, routing, due_only=True, now=now + timedelta(seconds=30), **NO_SLEEP)
    assert early.sent == 0 and "all" not in sink.posts
    later = notifications.deliver(engine, routing, due_only=True, now=now + timedelta(seconds=61), **NO_SLEEP)
    assert later.sent == 1 and len(sink.posts["all"]) == 1
    assert notifications.show_message(engine, ids[0])["attempts"] == 2


def test_a_message_kept_for_the_record_is_never_sent(engine, sink):
    routing = Routing((sink.url("all"),))
    draft = Draft("flashsales", "flashsale.decision", "flashsale:1:no_change_needed:x", "no change", "body",
                  {"role:readiness_team": ["rob"], "": ["bea"]}, broadcast=False)
    ids = notifications.enqueue(engine, draft, routing)
    notifications.deliver(engine, routing, **NO_SLEEP)
    assert [notifications.show_message(engine, i)["status"] for i in ids] == ["recorded"]
    assert sink.posts == {}


def test_the_outbox_is_listed_with_both_sources(engine, sqlite_url):
    notifications.enqueue(engine, _draft(), Routing())
    notifications.enqueue(engine, Draft("flashsales", "flashsale.review", "flashsale:1:increase_requested:x",
                                        "increase", "body", {"role:ratelimit_team": ["rita"]}), Routing())
    done = subprocess.run([*READINESS, "notifications", "list", "--db", sqlite_url, "--format", "json"],
                          capture_output=True, text=True, timeout=120, env=env_for_tests(), cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert '"source": "readiness"' in done.stdout and '"source": "flashsales"' in done.stdout


def test_each_serve_cycle_sends_what_was_skipped_once_a_channel_exists(engine, sink):
    from operations import NotifyConfig, ServeConfig, Service

    [row_id] = notifications.enqueue(engine, _draft(), Routing())
    quiet = Service(engine, ServeConfig(), sources=[]).run_cycle()
    assert quiet.notifications == {"sent": 0, "failed": 0, "skipped": 1} and sink.posts == {}
    configured = ServeConfig(notify=NotifyConfig(urls=[sink.url("all")]))
    report = Service(engine, configured, sources=[]).run_cycle()
    assert report.notifications == {"sent": 1, "failed": 0, "skipped": 0}
    assert sink.titles("all") == ["Weekly digest for Checkout"]
    assert notifications.show_message(engine, row_id)["status"] == "sent"
