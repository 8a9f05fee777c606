"""Weekly digests per team and domain, reminders before expiry, delivery through the SMTP sink."""

from __future__ import annotations

import subprocess
from datetime import datetime, time, timedelta

import pytest

from governance import (
    approve_review,
    approve_waiver,
    list_reviews,
    request_waiver,
    submit_review,
)
from operations import Channel, NotifyConfig, ServeConfig, Service, build_digests, build_reminders
from readiness import (
    changes,
    due_dates,
    get_season,
    import_inventory_file,
    load_rules,
    run_evaluation,
)
from readiness.reports import results, upsert_peak_event
from storage import utcnow
from tests.ops.support import READINESS, REPO, env_for_tests, free_port
from tests.readiness.helpers import compute, write_inventory

RULES = load_rules()
META = RULES.by_id()


def answers(rule_id: str) -> dict[str, str]:
    return {str(n): "Written down, rehearsed with the team and linked from the wiki page."
            for n in range(1, len(META[rule_id].meta.questions) + 1)}


def failing_waivable(engine, run_id: int, system_id: str, skip=()) -> str:
    for result in results(engine, run_id=run_id, system_id=system_id, statuses=("fail", "no_data")):
        meta = META.get(result.rule_id)
        if meta and meta.meta.waivable and meta.meta.kind == "automated" and result.rule_id not in skip:
            return result.rule_id
    raise AssertionError(f"no failing waivable rule on {system_id}")


@pytest.fixture
def week(org):
    """A run nine days ago, a run now with SYS-1 degraded, a pending review (SYS-2) and a requested
    waiver (SYS-1), an approved waiver (SYS-3) and an approved review (SYS-1)."""
    return make_week(org)


@pytest.fixture
def sqlite_week(sqlite_org):
    return make_week(sqlite_org)


def make_week(org) -> dict:
    url, engine, inventory = org
    now = utcnow()
    previous = run_evaluation(engine, ruleset=RULES, now=now - timedelta(days=9)).run_id
    worse = write_inventory(inventory.parent / "worse.json", [
        compute("SYS-1", "api", replicas=1, health_checks={"readiness": False, "liveness": False},
                autoscaling={"enabled": False}), compute("SYS-2", "scorer"), compute("SYS-3", "mailer")])
    import_inventory_file(engine, worse, now=now - timedelta(hours=1))
    latest = run_evaluation(engine, ruleset=RULES, now=now - timedelta(minutes=30)).run_id
    pending = submit_review(engine, "SYS-2", "peak_plan_review", actor_name="eve", answers=answers("peak_plan_review"),
                            evidence=["https://wiki.example/sys-2"], ruleset=RULES, now=now - timedelta(days=2))
    requested_rule = failing_waivable(engine, latest, "SYS-1")
    requested = request_waiver(engine, "SYS-1", requested_rule, actor_name="cy", reason="Needs the platform migration",
                               expires=(now + timedelta(days=60)).date(), ruleset=RULES, now=now - timedelta(days=1))
    approved_rule = failing_waivable(engine, latest, "SYS-3")
    waiver = request_waiver(engine, "SYS-3", approved_rule, actor_name="dee", reason="Mailer moves next quarter",
                            expires=(now + timedelta(days=13)).date(), ruleset=RULES, now=now - timedelta(days=3))
    approve_waiver(engine, waiver["id"], actor_name="ada", ruleset=RULES, now=now - timedelta(days=2))
    review = submit_review(engine, "SYS-1", "capacity_plan_signoff", actor_name="cy",
                           answers=answers("capacity_plan_signoff"), evidence=["https://wiki.example/sys-1"],
                           ruleset=RULES, now=now - timedelta(days=5))
    approve_review(engine, review["id"], actor_name="ada", now=now - timedelta(days=4))
    approve_review(engine, review["id"], actor_name="rita", now=now - timedelta(days=4))
    return {"engine": engine, "url": url, "now": now, "previous": previous, "latest": latest,
            "pending_review": pending["id"], "requested_waiver": requested["id"], "waiver": waiver["id"],
            "review": review["id"]}


def by_unit(messages) -> dict:
    return {m.unit: m for m in messages}


def test_a_digest_per_team_and_domain_with_score_changes_due_work_and_waiting_reviews(week):
    engine, now = week["engine"], week["now"]
    target = now.date() + timedelta(days=120)  # rules are due weeks before it: ahead of now
    upsert_peak_event(engine, key="peak-next", name="Peak next", starts_on=target + timedelta(days=30),
                      ends_on=target + timedelta(days=60), target_date=target)
    season = get_season(engine, "peak-next")
    digests = by_unit(build_digests(engine, now=now, since=now - timedelta(days=7), ruleset=RULES))
    assert sorted(digests) == ["domain:pay", "domain:risk", "team:checkout", "team:fraud"]
    checkout = digests["team:checkout"]
    assert checkout.recipients == ("cy", "dee")
    assert digests["domain:pay"].recipients == ("ada",)
    data = checkout.data
    assert (data["previous_run_id"], data["run_id"]) == (week["previous"], week["latest"])
    assert data["score"] < data["previous_score"] and "Checkout scores" in checkout.subject

    flipped = {(c["system_id"], c["rule_id"]) for c in changes(engine, week["previous"], run_id=week["latest"])[
        "results_changed"]}
    assert {(c["system_id"], c["rule_id"]) for c in data["changed"]} == {f for f in flipped if f[0] in ("SYS-1", "SYS-3")}
    assert any(c["system_id"] == "SYS-1" for c in data["changed"]) and digests["team:fraud"].data["changed"] == []
    assert "got worse or need attention" in checkout.body

    milestone = datetime.fromisoformat(data["milestone"]).date()
    assert milestone == season.target_date  # everything due by the season's target
    due = due_dates(season, (rule.meta for rule in RULES.rules))
    not_met = {(r.system_id, r.rule_id) for r in results(engine, run_id=week["latest"])
               if r.status in ("warning", "fail", "no_data", "pending_review", "expired", "stale")
               and r.rule_id in due and due[r.rule_id] <= milestone}
    assert {(d["system_id"], d["rule_id"]) for d in data["due"]} == {n for n in not_met if n[0] in ("SYS-1", "SYS-3")}
    assert f"Due by {milestone.isoformat()}" in checkout.body

    waiting = {(w["what"], w["id"]) for w in data["waiting"]}
    assert waiting == {("waiver", week["requested_waiver"])}
    assert {(w["what"], w["id"]) for w in digests["domain:risk"].data["waiting"]} == {("review", week["pending_review"])}
    assert f"review {week['pending_review']}: SYS-2 peak_plan_review, submitted by eve" in digests["team:fraud"].body


def test_the_first_digest_says_there_is_nothing_to_compare_with(org):
    _, engine, _ = org
    now = utcnow()
    [digest, *_] = build_digests(engine, now=now, since=now - timedelta(days=7), ruleset=RULES, levels=("team",))
    assert digest.data["previous_run_id"] is None and "this is the first digest" in digest.body


def test_reminders_go_out_once_per_reminder_point_as_daily_windows_tile(week):
    engine, now = week["engine"], week["now"]
    start = datetime.combine(now.date(), time()) - timedelta(days=1)
    sent = []
    for day in range(200):  # a daily job: each window is (previous fire, this fire]
        since, until = start + timedelta(days=day), start + timedelta(days=day + 1)
        sent += [(m.unit, m.data["days"], until) for m in build_reminders(engine, since=since, until=until,
                                                                           days=(14, 3))]
    waiver = [(days, until) for unit, days, until in sent if unit == f"waiver:{week['waiver']}"]
    expires_at = datetime.combine((now + timedelta(days=14)).date(), time())
    assert waiver == [(14, expires_at - timedelta(days=14)), (3, expires_at - timedelta(days=3))]
    review_expiry = datetime.fromisoformat(next(r for r in list_reviews(engine) if r["id"] == week["review"])["expires_at"])
    review = [days for unit, days, _ in sent if unit == f"review:{week['review']}"]
    assert review == [14, 3] and review_expiry > now + timedelta(days=170)
    assert not [u for u, _, _ in sent if u in (f"waiver:{week['requested_waiver']}",)]  # not approved: no reminder


def test_reminders_name_who_to_tell_and_what_to_do(week):
    engine, now = week["engine"], week["now"]
    expires_at = datetime.combine((now + timedelta(days=14)).date(), time())
    [message] = build_reminders(engine, since=expires_at - timedelta(days=14, seconds=1),
                                until=expires_at - timedelta(days=14), days=(14,))
    assert message.unit == f"waiver:{week['waiver']}" and message.recipients == ("ada", "dee")
    assert "14 days" in message.subject and "readiness waiver request" in message.body


def test_digests_are_delivered_by_mail_to_each_unit(week, smtp_sink):
    engine, now = week["engine"], week["now"]
    messages = build_digests(engine, now=now, since=now - timedelta(days=7), ruleset=RULES)
    channel = Channel([smtp_sink.url()], email_domain="corp.example", engine=engine)
    deliveries = channel.send(messages)
    assert [d.status for d in deliveries] == ["sent"] * 4
    mails = smtp_sink.wait_for(5)  # apprise sends one mail per address
    checkout = next(m for m in messages if m.unit == "team:checkout")
    to_checkout = [m for m in mails if m.subject == checkout.subject]
    assert sorted(r for m in to_checkout for r in m.recipients) == ["cy@corp.example", "dee@corp.example"]
    body = to_checkout[0].body.replace("\r\n", "\n")
    assert body.startswith("Weekly readiness digest for team Checkout (checkout)")
    assert "\nWhat changed since run" in body and "To: cy@corp.example, dee@corp.example" in body
    assert len(mails) == 5


def test_the_serve_job_sends_reminders_through_the_configured_channel(week, smtp_sink):
    engine, now = week["engine"], week["now"]
    config = ServeConfig(notify=NotifyConfig(urls=[smtp_sink.url()], email_domain="corp.example"))
    expires_at = datetime.combine((now + timedelta(days=14)).date(), time())
    deliveries = Service(engine, config, sources=[]).send_reminders(expires_at - timedelta(days=14),
                                                                     since=expires_at - timedelta(days=15))
    assert [d.status for d in deliveries] == ["sent"]
    mails = smtp_sink.wait_for(2)  # one per address
    assert sorted(r for m in mails for r in m.recipients) == ["ada@corp.example", "dee@corp.example"]
    assert all("ends after" in m.subject for m in mails)


def test_digest_command_sends_with_peak_notify_urls_and_fails_when_delivery_fails(sqlite_week, smtp_sink):
    week = sqlite_week
    args = [*READINESS, "digest", "--kind", "reminders", "--db", week["url"], "--send",
            "--since", (utcnow() - timedelta(days=1)).isoformat(timespec="seconds")]
    env = env_for_tests(PEAK_NOTIFY_URLS=smtp_sink.url(), PEAK_NOTIFY_EMAIL_DOMAIN="corp.example")
    done = subprocess.run(args, capture_output=True, text=True, timeout=180, env=env, cwd=REPO)
    assert done.returncode == 0, done.stderr
    mails = smtp_sink.wait_for(2)
    assert len({m.subject for m in mails}) == 1  # the same reminder to the requester and the approver
    assert f"Waiver {week['waiver']}" in mails[0].subject and "(14 days)" in mails[0].subject

    closed = f"mailto://127.0.0.1:{free_port()}?from=readiness@example.com&mode=insecure"
    done = subprocess.run(args, capture_output=True, text=True, timeout=180, cwd=REPO,
                          env=env_for_tests(PEAK_NOTIFY_URLS=closed))
    assert done.returncode == 1 and ": failed" in done.stderr
